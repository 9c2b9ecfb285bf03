"""Keeps the catalogue's search documents (CatalogEntry, SchemaField) in step with topics, schemas and teams.

The services that change what the catalogue shows call ``catalogue_refresh`` inside their own transaction,
so a search never sees a topic without its entry, nor an entry older than its topic. It works on many
topics at once with a fixed number of statements (a bulk registration of a thousand topics costs the
same handful of queries as one), and ``catalogue_rebuild`` runs it over every topic in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery

from onboarding.models import CatalogEntry, ResourceStatus, Schema, SchemaField, SchemaVersion, Topic
from onboarding.schemas.field_paths import FieldInfo, identifier_words, schema_fields

SEARCH_CONFIG = "english"  # stems "births" to "birth"; the same config builds documents and parses queries
REBUILD_BATCH = 2_000
ENTRY_BATCH = 500
# One statement writes a batch of entries with their weighted documents: bulk_create cannot compute a
# column (the tsvector) from texts it does not store, and storing them would double the rows a search reads.
_UPSERT = """
INSERT INTO {table} (topic_id, name_text, field_names, formats, document, refreshed_at)
SELECT v.id, v.name_text, v.field_names, string_to_array(v.formats, ','),
       setweight(to_tsvector(%(config)s::regconfig, v.a), 'A')
       || setweight(to_tsvector(%(config)s::regconfig, v.b), 'B')
       || setweight(to_tsvector(%(config)s::regconfig, v.c), 'C')
       || setweight(to_tsvector(%(config)s::regconfig, v.d), 'D'),
       now()
FROM unnest(%(ids)s::bigint[], %(names)s::text[], %(fields)s::text[], %(formats)s::text[], %(a)s::text[],
            %(b)s::text[], %(c)s::text[], %(d)s::text[]) AS v(id, name_text, field_names, formats, a, b, c, d)
ON CONFLICT (topic_id) DO UPDATE SET name_text = EXCLUDED.name_text, field_names = EXCLUDED.field_names,
    formats = EXCLUDED.formats, document = EXCLUDED.document, refreshed_at = EXCLUDED.refreshed_at
"""


def catalogue_refresh(topic_ids: Iterable[int]) -> int:
    """Rebuild the catalogue entries of these topics from the database as it is now; returns how many
    live topics were indexed. Deleted or missing topics lose their entry. Call it in the transaction that
    changed them (it opens its own savepoint otherwise)."""
    ids = set(topic_ids)
    if not ids:
        return 0
    with transaction.atomic():
        topics = list(Topic.objects.filter(pk__in=ids).exclude(status=ResourceStatus.DELETED)
                      .select_related("team").only("pk", "name", "description", "tags", "team__slug",
                                                   "team__name", "team__contacts"))
        live = {topic.pk for topic in topics}
        if ids - live:
            CatalogEntry.objects.filter(topic_id__in=ids - live).delete()
        SchemaField.objects.filter(schema__topic_id__in=ids).delete()
        fields, formats = _schema_fields(live)
        entries = [_entry(topic, fields[topic.pk], formats[topic.pk]) for topic in topics]
        with connection.cursor() as cursor:
            for start in range(0, len(entries), ENTRY_BATCH):
                _upsert(cursor, entries[start:start + ENTRY_BATCH])
    return len(live)


def _upsert(cursor, entries: list[dict]) -> None:
    columns = {key: [entry[key] for entry in entries] for key in ("ids", "names", "fields", "formats", "a", "b",
                                                                   "c", "d")}
    table = connection.ops.quote_name(CatalogEntry._meta.db_table)
    cursor.execute(_UPSERT.format(table=table), {"config": SEARCH_CONFIG, **columns})


def catalogue_rebuild(*, batch: int = REBUILD_BATCH) -> int:
    """Every topic's entry, rebuilt in batches (``manage.py catalogue_rebuild``); stale entries go too."""
    CatalogEntry.objects.exclude(topic__in=Topic.objects.exclude(status=ResourceStatus.DELETED)).delete()
    ids = list(Topic.objects.exclude(status=ResourceStatus.DELETED).order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        done += catalogue_refresh(ids[start:start + batch])
    return done


def catalogue_refresh_team(team_id: int) -> int:
    """A team's name or contacts changed: the entries of all its topics carry them."""
    return catalogue_refresh(Topic.objects.filter(team_id=team_id).values_list("pk", flat=True))


def _schema_fields(topic_ids: set[int]) -> tuple[dict[int, list[FieldInfo]], dict[int, list[str]]]:
    """Fields of the latest version of every live schema of the topics (stored as SchemaField rows),
    and the formats of those schemas, per topic. One query reads them, one bulk insert stores them."""
    latest = SchemaVersion.objects.filter(schema=OuterRef("pk")).order_by("-number").values("text")[:1]
    schemas = (Schema.objects.filter(topic_id__in=topic_ids).exclude(status=ResourceStatus.DELETED)
               .annotate(latest_text=Subquery(latest)).order_by("topic_id", "side")
               .values_list("pk", "topic_id", "format", "latest_text"))
    fields: dict[int, list[FieldInfo]] = defaultdict(list)
    formats: dict[int, list[str]] = defaultdict(list)
    rows = []
    for schema_id, topic_id, fmt, text in schemas:
        if fmt not in formats[topic_id]:
            formats[topic_id].append(fmt)
        extracted = schema_fields(text or "", fmt)
        fields[topic_id].extend(extracted)
        rows.extend(SchemaField(schema_id=schema_id, position=i, path=f.path[:1000], name=f.name[:300],
                                path_words=identifier_words(f.path)[:1000], doc=f.doc, type=f.type[:300])
                    for i, f in enumerate(extracted))
    SchemaField.objects.bulk_create(rows, batch_size=2_000)
    return fields, formats


def _entry(topic: Topic, fields: list[FieldInfo], formats: list[str]) -> dict:
    """The texts of one entry, by weight: a (the name), b (tags, owning team), c (description, field
    names) and d (field docs)."""
    team = topic.team
    names = list(dict.fromkeys(f.name for f in fields))
    name_words = " ".join(dict.fromkeys(identifier_words(n) for n in names))
    return {
        "ids": topic.pk,
        "names": f"{topic.name} {identifier_words(topic.name)}"[:600],
        "fields": " ".join(names),
        "formats": ",".join(formats),
        "a": f"{topic.name} {identifier_words(topic.name)}",
        "b": " ".join([*topic.tags, *(identifier_words(t) for t in topic.tags), team.slug,
                       identifier_words(team.slug), team.name, team.contacts]),
        "c": f"{topic.description}\n{' '.join(names)}\n{name_words}",
        "d": "\n".join(dict.fromkeys(f.doc for f in fields if f.doc)),
    }
