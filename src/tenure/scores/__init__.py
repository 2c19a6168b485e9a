"""Per-customer scores computed from the database with :mod:`tenure.analytics`.

``features`` aggregates the event log in SQL (one ``GROUP BY`` per refresh), ``refresh``
fits BG/NBD and Gamma-Gamma, scores RFM segments (``segments``), runs the backtest
(``backtest``) and the churn model (``churn``), and ``writes`` replaces ``person_scores``
in bulk; ``queries`` reads scores, reports and chart data back, and ``kpis`` computes a
period's KPIs with SQL aggregates. Tables are in ``models``, API types in ``schemas``.
"""
