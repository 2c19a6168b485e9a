"""Segments: a filter language compiled to SQL, dynamic segments, static lists, RFM
segments and value tiers. The grammar is in ``tenure.segments.parser`` and docs/segments.md.
"""
