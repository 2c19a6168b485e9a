"""Find: the global search across people, organizations and segments."""
