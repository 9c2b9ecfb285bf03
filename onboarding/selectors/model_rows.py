"""Model instances from rows a hand-written statement returned as JSON (``to_jsonb(t)`` or
``jsonb_build_object``), for the few selectors that read a page's rows in one statement."""

from __future__ import annotations

import json

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import Model


def team_json(alias: str) -> str:
    """SQL: the team row ``alias`` as the pages show a team (id and slug)."""
    return f"jsonb_build_object('id', {alias}.id, 'slug', {alias}.slug)"


def or_null(alias: str, document: str) -> str:
    """SQL: ``document`` for a row ``alias`` of a left join, null where the join found none."""
    return f"CASE WHEN {alias}.id IS NULL THEN NULL ELSE {document} END"


def json_columns(sql: str, params: dict) -> tuple | None:
    """The one row of a statement whose columns are JSON, each decoded (a null column stays None); None when the
    statement returns no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else tuple(None if value is None else json.loads(value) for value in row)


def instance_from_json(model: type[Model], row: dict | None):
    """An instance as the ORM would have loaded it. Each column the row has goes through its field's
    ``to_python`` (JSON gives timestamps as ISO text); a column it lacks is deferred, so reading it later costs a
    query, as with ``.only()``. A key named after a foreign key holds the related row (or null), loaded the same
    way, as ``select_related`` would have. None stays None."""
    if row is None:
        return None
    names, values, related = [], [], {}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.name in row:
            related[field] = row[field.name]
        if field.column in row:
            names.append(field.attname)
            value = row[field.column]
            values.append(None if value is None else field.to_python(value))
    instance = model.from_db(DEFAULT_DB_ALIAS, names, values)
    for field, value in related.items():
        # The descriptor's cache, as select_related fills it; the id column stays as the row gave it.
        field.set_cached_value(instance, instance_from_json(field.related_model, value))
    return instance
