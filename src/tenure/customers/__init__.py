"""People, organizations, channel identities, consent, custom attributes, tags, notes, tasks."""
