"""Public data sets shipped with Tenure and the demo workspace builder."""
