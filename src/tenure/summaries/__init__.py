"""The customer read model: one summary per person, what the 360 view and the people list
read by primary key.

``customers.summaries.mark_stale`` is how writers keep it honest (its table lives with
the people it summarizes, below every writer); this package assembles, rebuilds and
serves it, above the capabilities whose live rows (scores, stage, risk) it joins.
"""
