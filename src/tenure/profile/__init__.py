"""The customer 360 view: one person's page assembled from the cards capabilities register.

``cards`` holds the registry: a capability contributes a card (a key, a title, its place
on the page, a loader and the template that draws it) through ``register_card``, the way
a page registers a router and a nav item, so a new capability adds a card without editing
the timeline or the people page. ``builtin`` registers the customer's own cards (summary,
identities, attributes, consents, notes, tasks); ``queries.person_360`` is the JSON view.
Every card is loaded against one workspace clock reading, so dates on the page agree.
"""
