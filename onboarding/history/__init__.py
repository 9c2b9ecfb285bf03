"""Row-level history of desired state, recorded by Postgres triggers (django-pghistory).

Every insert, update and delete of a tracked table writes an event row from inside the database,
so edits through services, the admin, bulk updates and raw SQL are all captured. The request or
task that made the change is attached as context (who, via, request id); see ``context.py``.
"""
