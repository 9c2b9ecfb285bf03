"""A topic's lineage: where its events come from and where they go, laid out for an inline SVG."""
