"""Per-customer scores computed from the database with :mod:`tenure.analytics`.

RFM summaries and churn features are aggregated in SQL (``features``), the models are
fitted in Python on one row per customer (``refresh``), and the results are written in
bulk to ``person_scores`` and ``model_reports`` (``models``), read back by ``queries``.
Workspace KPIs for a period are SQL aggregates too (``kpis``).
"""
