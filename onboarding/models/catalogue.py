from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.db import models

from onboarding.models.schemas import Schema
from onboarding.models.topics import Topic


class CatalogEntry(models.Model):
    """The catalogue's search document of one topic, denormalised from the topic, its team and the
    fields of its schemas' latest versions, so one indexed row answers a search.

    ``document`` is a weighted tsvector: A the topic's name, B its tags and owning team (slug, name,
    contacts), C its description and field names, D the fields' documentation (the texts themselves are
    not kept: the row stays narrow, so a search reads less). ``name_text`` and
    ``field_names`` are plain text for trigram (typo-tolerant) matching. services/catalogue.py keeps
    entries current; ``manage.py catalogue_rebuild`` rebuilds them all.
    """

    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, primary_key=True, related_name="catalog_entry")
    name_text = models.CharField(max_length=600, help_text="The topic's name and its words, for trigram matching.")
    field_names = models.TextField(blank=True, help_text="Field names and their words, for trigram matching.")
    formats = ArrayField(models.CharField(max_length=10), default=list, blank=True,
                         help_text="Formats of the topic's live schemas (a facet).")
    document = SearchVectorField(null=True)
    refreshed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "catalogue entries"
        indexes = [
            GinIndex(fields=["document"], name="catalog_document_gin"),
            GinIndex(fields=["name_text"], name="catalog_name_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["field_names"], name="catalog_fields_trgm", opclasses=["gin_trgm_ops"]),
            GinIndex(fields=["formats"], name="catalog_formats_gin"),
        ]

    def __str__(self) -> str:
        return f"Catalog entry of topic {self.topic_id}"


class SchemaField(models.Model):
    """One field of the latest version of a live schema (see onboarding/schemas/field_paths.py), with the
    words of its path, so a search can say which field matched."""

    schema = models.ForeignKey(Schema, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveIntegerField()
    path = models.CharField(max_length=1000)
    name = models.CharField(max_length=300)
    path_words = models.CharField(max_length=1000, blank=True, help_text="Words of the path: patient birth date.")
    doc = models.TextField(blank=True)
    type = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["schema", "position"]
        indexes = [models.Index(fields=["schema", "position"], name="schema_field_position")]

    def __str__(self) -> str:
        return self.path
