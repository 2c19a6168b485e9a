"""Home: the logged-in user's dashboard (tasks due, customers at risk, activity, KPIs)."""
