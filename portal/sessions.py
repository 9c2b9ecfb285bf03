"""Django's database sessions, with the read every request makes written by hand.

Every page reads its session first. Through the ORM that one-row SELECT cost more to compile than Postgres spent
answering it (scripts/bench/pages.py); sessions are still stored, saved, expired and cleared by Django's own
database backend, which this extends.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

READ = "SELECT session_data, expire_date FROM django_session WHERE session_key = %s AND expire_date > %s"


class SessionStore(db.SessionStore):
    def _get_session_from_db(self):
        with connections[router.db_for_read(self.model)].cursor() as cursor:
            cursor.execute(READ, [self.session_key, timezone.now()])
            row = cursor.fetchone()
        if row is None:
            self._session_key = None  # as Django's backend does: an unknown or expired key starts afresh
            return None
        return self.model(session_key=self.session_key, session_data=row[0], expire_date=row[1])
