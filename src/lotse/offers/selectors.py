"""Reads of the offer catalogue. Offers are not personal data: no scoping by case and
no access log; the catalogue is visible to every member of the alliance."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, Max, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.people.names import fold

from .access import closed_categories
from .codes import ELIGIBILITY_CATEGORY
from .matching import OfferRow, OfferRows
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
    # With a status: also drop offers whose category the law closes for every person
    # with that status (offers.access.legally_closed).
    status_by_law: bool = True
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
        if filters.status_by_law:
            closed = closed_categories(filters.status, today)
            if closed:
                qs = qs.exclude(category__in=closed)
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


# --- compact rows for matching ---------------------------------------------------------

# "rows": (the catalogue stamp, the rows), replaced as one (threads may read it meanwhile)
_ROWS_CACHE: dict[str, tuple[str, OfferRows]] = {}


def offer_rows(*, today: dt.date | None = None) -> OfferRows:
    """Active offers that have not ended, as compact rows for :mod:`matching` (ordered
    by id; an immutable sequence, shared by the callers).

    Cached per process and rebuilt when the catalogue changed (offer count, latest
    change, newest id or need-type links differ): four cheap index queries per call instead of
    loading thousands of offers. The cached rows also keep the tables that
    :meth:`Matcher.ranked <lotse.offers.matching.Matcher.ranked>` prepares from them
    once per day."""
    today = today or timezone.localdate()
    active = Offer.objects.filter(is_active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    # Over all offers, not only the current ones: the latest change is one step down
    # the updated_at index and the count needs no table scan (a filtered aggregate
    # scanned the offers table: 5 ms at 10,000 offers). Offers that end drop out by
    # the day in the key; every other change moves updated_at.
    last = Offer.objects.aggregate(last=Max("updated_at"))["last"]
    count = Offer.objects.count()
    # The newest id too: other offers with the same count and latest change (a clock
    # stopped in tests, rows replaced) are another catalogue.
    top = Offer.objects.order_by("-pk").values_list("pk", flat=True).first()
    links = Offer.need_types.through.objects.count()
    key = f"{today}|{count}|{top}|{last}|{links}"
    cached = _ROWS_CACHE.get("rows")
    if cached is None or cached[0] != key:
        needs: dict[int, set[int]] = {}
        for offer_id, need_id in Offer.need_types.through.objects.values_list(
            "offer_id", "needtype_id"
        ):
            needs.setdefault(offer_id, set()).add(need_id)
        rows = OfferRows(
            OfferRow(
                id=pk,
                title=title,
                provider=provider,
                category=category,
                eligibility_category=ELIGIBILITY_CATEGORY.get(category),
                statuses=frozenset(statuses or ()),
                age_min=age_min,
                age_max=age_max,
                german_min=german_min,
                district_id=district_id,
                starts_on=starts_on,
                ends_on=ends_on,
                rolling_entry=rolling,
                capacity=capacity,
                occupied=occupied,
                need_type_ids=frozenset(needs.get(pk, ())),
            )
            for (
                pk,
                title,
                provider,
                category,
                statuses,
                age_min,
                age_max,
                german_min,
                district_id,
                starts_on,
                ends_on,
                rolling,
                capacity,
                occupied,
            ) in active.order_by("pk").values_list(
                "pk",
                "title",
                "provider__name",
                "category",
                "statuses",
                "age_min",
                "age_max",
                "german_min",
                "district_id",
                "starts_on",
                "ends_on",
                "rolling_entry",
                "capacity",
                "occupied",
            )
        )
        cached = _ROWS_CACHE["rows"] = (key, rows)
    return cached[1]


SORTS: dict[str, tuple[Any, ...]] = {
    "title": ("title", "pk"),
    "start": (F("starts_on").asc(nulls_last=True), "title", "pk"),
}


def catalogue_page(
    filters: CatalogueFilters, *, sort: str = "title", page: int = 1, today: dt.date | None = None
) -> Page[Offer]:
    """One page of the catalogue, sorted by title or by start date (open dates last)."""
    qs = catalogue(filters, today=today).order_by(*SORTS.get(sort, SORTS["title"]))
    return Paginator(qs, settings.LOTSE_PAGE_SIZE).get_page(page)


def offer_get(*, offer_id: int) -> Offer:
    """One offer with what its page shows (404 if there is none); deactivated offers
    stay readable, e.g. for earlier referrals."""
    qs = Offer.objects.select_related("provider", "district", "updated_by").prefetch_related(
        "need_types"
    )
    return get_object_or_404(qs, pk=offer_id)


def offer_can_edit(*, actor: Membership, provider_id: int | None) -> bool:
    """Whether ``actor`` may maintain offers of the provider: coordinators every
    provider's, the other editing roles their own organisation's."""
    if actor.has_perm(Perm.OFFER_EDIT_ALL):
        return True
    return actor.has_perm(Perm.OFFER_EDIT) and provider_id == actor.organisation_id
