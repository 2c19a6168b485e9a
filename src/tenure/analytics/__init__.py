"""Pure analytics on pandas DataFrames."""
