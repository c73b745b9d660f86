"""Reads of the offer catalogue. Offers are not personal data: no scoping by case and
no access log; the catalogue is visible to every member of the alliance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.utils import timezone

from lotse.people.names import fold

from .models import Offer


@dataclass(frozen=True)
class CatalogueFilters:
    q: str = ""  # words, any script; all must occur (title, description, provider, needs)
    field_of_action: str = ""
    category: str = ""
    district_id: int | None = None
    provider_id: int | None = None
    need_type_id: int | None = None
    status: str = ""  # a residence status the offer admits (its own restriction)
    age: int | None = None  # an age within the offer's age range
    language: str = ""  # language of instruction
    free_places: bool = False  # only offers with free places (or no fixed capacity)
    include_past: bool = False  # also offers that ended before today
    include_inactive: bool = False


def offer_search_text(offer: Offer, need_names: list[str]) -> str:
    parts = [offer.title, offer.description, offer.prerequisites, offer.provider.name]
    parts += [offer.provider.short_name, offer.address, *need_names]
    return " ".join(fold(p) for p in parts if p)


def catalogue(filters: CatalogueFilters, *, today: dt.date | None = None) -> QuerySet[Offer]:
    """The offers matching ``filters`` (no ordering beyond the model's)."""
    today = today or timezone.localdate()
    qs = Offer.objects.select_related("provider", "district")
    if not filters.include_inactive:
        qs = qs.filter(is_active=True)
    if not filters.include_past:
        qs = qs.filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    for word in fold(filters.q).split():
        qs = qs.filter(search_text__contains=word)
    if filters.field_of_action:
        qs = qs.filter(field_of_action=filters.field_of_action)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.district_id:
        qs = qs.filter(district_id=filters.district_id)
    if filters.provider_id:
        qs = qs.filter(provider_id=filters.provider_id)
    if filters.need_type_id:
        qs = qs.filter(need_types=filters.need_type_id)
    if filters.status:
        # JSON list membership, portable across SQLite and PostgreSQL: an empty list
        # admits every status; codes are plain words none of which contains another
        # in quotes.
        qs = qs.filter(Q(statuses=[]) | Q(statuses__icontains=f'"{filters.status}"'))
    if filters.age is not None:
        qs = qs.filter(
            Q(age_min__isnull=True) | Q(age_min__lte=filters.age),
            Q(age_max__isnull=True) | Q(age_max__gte=filters.age),
        )
    if filters.language:
        qs = qs.filter(languages__icontains=f'"{filters.language}"')
    if filters.free_places:
        qs = qs.filter(Q(capacity__isnull=True) | Q(capacity__gt=F("occupied")))
    return qs.distinct() if filters.need_type_id else qs

