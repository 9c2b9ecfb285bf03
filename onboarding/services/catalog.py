"""Keeps the catalogue's search documents (CatalogEntry, SchemaField) in step with topics, schemas and teams.

The services that change what the catalogue shows call ``catalog_refresh`` inside their own transaction,
so a search never sees a topic without its entry, nor an entry older than its topic. It works on many
topics at once with a fixed number of statements (a bulk registration of a thousand topics costs the
same handful of queries as one), and ``catalog_rebuild`` runs it over every topic in batches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.contrib.postgres.search import SearchVector
from django.db import transaction
from django.db.models import OuterRef, Subquery

from onboarding.models import CatalogEntry, ResourceStatus, Schema, SchemaField, SchemaVersion, Topic
from onboarding.schemas.fields import FieldEntry, extract_fields, identifier_words

SEARCH_CONFIG = "english"  # stems "births" to "birth"; the same config builds documents and parses queries
REBUILD_BATCH = 2_000
_ENTRY_FIELDS = ["name_text", "field_names", "text_a", "text_b", "text_c", "text_d", "formats"]


def search_vector() -> SearchVector:
    """The weighted document built from an entry's text columns (A name ... D field docs)."""
    return (SearchVector("text_a", weight="A", config=SEARCH_CONFIG)
            + SearchVector("text_b", weight="B", config=SEARCH_CONFIG)
            + SearchVector("text_c", weight="C", config=SEARCH_CONFIG)
            + SearchVector("text_d", weight="D", config=SEARCH_CONFIG))


def catalog_refresh(topic_ids: Iterable[int]) -> int:
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
        CatalogEntry.objects.bulk_create([_entry(topic, fields[topic.pk], formats[topic.pk]) for topic in topics],
                                         update_conflicts=True, unique_fields=["topic"],
                                         update_fields=_ENTRY_FIELDS, batch_size=500)
        if live:
            CatalogEntry.objects.filter(topic_id__in=live).update(document=search_vector())
    return len(live)


def catalog_rebuild(*, batch: int = REBUILD_BATCH) -> int:
    """Every topic's entry, rebuilt in batches (``manage.py catalog_rebuild``); stale entries go too."""
    CatalogEntry.objects.exclude(topic__in=Topic.objects.exclude(status=ResourceStatus.DELETED)).delete()
    ids = list(Topic.objects.exclude(status=ResourceStatus.DELETED).order_by("pk").values_list("pk", flat=True))
    done = 0
    for start in range(0, len(ids), batch):
        done += catalog_refresh(ids[start:start + batch])
    return done


def catalog_refresh_team(team_id: int) -> int:
    """A team's name or contacts changed: the entries of all its topics carry them."""
    return catalog_refresh(Topic.objects.filter(team_id=team_id).values_list("pk", flat=True))


def _schema_fields(topic_ids: set[int]) -> tuple[dict[int, list[FieldEntry]], dict[int, list[str]]]:
    """Fields of the latest version of every live schema of the topics (stored as SchemaField rows),
    and the formats of those schemas, per topic. One query reads them, one bulk insert stores them."""
    latest = SchemaVersion.objects.filter(schema=OuterRef("pk")).order_by("-number").values("text")[:1]
    schemas = (Schema.objects.filter(topic_id__in=topic_ids).exclude(status=ResourceStatus.DELETED)
               .annotate(latest_text=Subquery(latest)).order_by("topic_id", "side")
               .values_list("pk", "topic_id", "format", "latest_text"))
    fields: dict[int, list[FieldEntry]] = defaultdict(list)
    formats: dict[int, list[str]] = defaultdict(list)
    rows = []
    for schema_id, topic_id, fmt, text in schemas:
        if fmt not in formats[topic_id]:
            formats[topic_id].append(fmt)
        extracted = extract_fields(text or "", fmt)
        fields[topic_id].extend(extracted)
        rows.extend(SchemaField(schema_id=schema_id, position=i, path=f.path[:1000], name=f.name[:300],
                                path_words=identifier_words(f.path)[:1000], doc=f.doc, type=f.type[:300])
                    for i, f in enumerate(extracted))
    SchemaField.objects.bulk_create(rows, batch_size=2_000)
    return fields, formats


def _entry(topic: Topic, fields: list[FieldEntry], formats: list[str]) -> CatalogEntry:
    team = topic.team
    names = list(dict.fromkeys(f.name for f in fields))
    name_words = " ".join(dict.fromkeys(identifier_words(n) for n in names))
    return CatalogEntry(
        topic_id=topic.pk,
        name_text=f"{topic.name} {identifier_words(topic.name)}"[:600],
        field_names=" ".join(names),
        text_a=f"{topic.name} {identifier_words(topic.name)}",
        text_b=" ".join([*topic.tags, *(identifier_words(t) for t in topic.tags), team.slug,
                         identifier_words(team.slug), team.name, team.contacts]),
        text_c=f"{topic.description}\n{' '.join(names)}\n{name_words}",
        text_d="\n".join(dict.fromkeys(f.doc for f in fields if f.doc)),
        formats=formats,
    )
