"""The catalogue's mappings by field: which mappings read or fill a field whose path contains the words searched
(``birth`` finds the rules of ``birth_date`` and ``patient.birth_date``), among those the user may see."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import TextField
from django.db.models.functions import Cast

from onboarding.selectors.mappings import mappings_visible_to

LIMIT = 10


@dataclass
class MappingHit:
    mapping: object
    rules: list[dict]  # the matching rules: {"index", "target", "sources", "fn"}


def mappings_by_field(user, q: str, *, limit: int = LIMIT) -> list[MappingHit]:
    q = (q or "").strip().lower()
    if len(q) < 2:
        return []
    # The rules' text narrows the rows in the database; which rule matched is read from the few rows left.
    rows = (mappings_visible_to(user).filter(current_version__isnull=False)
            .annotate(rules_text=Cast("current_version__rules", TextField()))
            .filter(rules_text__icontains=q).select_related("current_version")[: limit * 3])
    hits = []
    for mapping in rows:
        matched = [{"index": i, "target": r.get("target"), "sources": r.get("sources") or [], "fn": r.get("fn")}
                   for i, r in enumerate(mapping.current_version.rules)
                   if isinstance(r, dict) and any(q in str(path).lower()
                                                  for path in [r.get("target"), *(r.get("sources") or [])])]
        if matched:
            hits.append(MappingHit(mapping, matched))
    return hits[:limit]
