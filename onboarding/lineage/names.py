"""How the lineage picture names a topic the viewer may not see."""

PRIVATE = "a private topic"
