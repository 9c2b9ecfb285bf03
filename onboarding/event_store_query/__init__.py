"""Querying a topic's documents in the event store: the query language (pure), the documents' shape, signed
page cursors, the store's reader, and the audited, masked query service."""
