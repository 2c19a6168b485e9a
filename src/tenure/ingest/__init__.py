"""Importing customer data: normalization of contact fields and duplicate matching.

``tenure.ingest.normalize`` turns raw phone numbers, email addresses, person names and
countries into canonical values (keeping the original), and ``tenure.ingest.matching``
finds people who are probably the same person, with a probability and readable evidence.
"""
