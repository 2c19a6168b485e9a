"""One module per capability."""
