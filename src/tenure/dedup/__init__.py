"""Identity resolution: duplicate matching, the review queue, merges and their undo.

``tenure.dedup.matching`` finds people who are probably the same person, with a probability
and readable evidence; ``scan`` runs it over the whole base; ``merge`` and ``review`` act on
its pairs.
"""
