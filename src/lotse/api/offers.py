"""/offers (the catalogue, no personal data) and /persons/{id}/matches (scoped, logged)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from lotse.core.models import District, NeedType
from lotse.core.roles import Perm
from lotse.offers.models import Offer
from lotse.offers.reasons import need_names, reason_text
from lotse.offers.selectors import CatalogueFilters, catalogue
from lotse.offers.selectors_matching import person_matches

from .auth import acting
from .errors import ERRORS

router = Router(tags=["offers"])


class OfferOut(Schema):
    id: int
    title: str
    description: str
    provider: str
    provider_id: int
    field_of_action: str
    category: str
    level: str
    need_types: list[str] = Field(description="need type codes the offer answers")
    statuses: list[str] = Field(description="residence statuses admitted; empty: any")
    age_min: int | None
    age_max: int | None
    german_min: str
    prerequisites: str
    district: str | None = Field(description="district code")
    address: str
    starts_on: dt.date | None
    ends_on: dt.date | None
    rolling_entry: bool
    schedule: str
    capacity: int | None
    free_places: int | None
    languages: list[str]
    funding: str
    childcare: bool
    contact_name: str
    contact_email: str
    contact_phone: str
    review_due: dt.date
    outdated: bool


class OfferPage(Schema):
    count: int
    page: int
    pages: int
    items: list[OfferOut]


class OfferQuery(Schema):
    q: str = ""
    field_of_action: str = ""
    category: str = ""
    district: str = Field("", description="district code")
    provider: int | None = None
    need_type: str = Field("", description="need type code")
    status: str = Field("", description="residence status the offer admits")
    age: int | None = None
    language: str = ""
    free_places: bool = False
    include_past: bool = False
    page: int = 1


def _offer(o: Offer) -> dict[str, Any]:
    return {
        **{f: getattr(o, f) for f in OfferOut.model_fields if hasattr(o, f)},
        "provider": o.provider.name,
        "need_types": [n.code for n in o.need_types.all()],
        "district": o.district.code if o.district else None,
        "outdated": o.is_outdated,
    }


@router.get("/offers", response={200: OfferPage, **ERRORS})
def offer_list(request: HttpRequest, filters: Query[OfferQuery]) -> dict[str, Any]:
    """The offer catalogue of the alliance (every role; offers are not personal data,
    nothing is logged). Filters as on the catalogue page; `status` keeps offers that
    admit that residence status themselves (the law per person: /persons/{id}/matches)."""
    acting(request, Perm.OFFER_VIEW)

    def _id(model: Any, code: str) -> int | None:
        if not code:
            return None
        return model.objects.filter(code=code).values_list("pk", flat=True).first() or -1

    qs = catalogue(
        CatalogueFilters(
            q=filters.q,
            field_of_action=filters.field_of_action,
            category=filters.category,
            district_id=_id(District, filters.district),
            provider_id=filters.provider,
            need_type_id=_id(NeedType, filters.need_type),
            status=filters.status,
            age=filters.age,
            language=filters.language,
            free_places=filters.free_places,
            include_past=filters.include_past,
        )
    ).prefetch_related("need_types")
    paginator = Paginator(qs, settings.LOTSE_PAGE_SIZE)
    page = paginator.get_page(filters.page)
    return {
        "count": paginator.count,
        "page": page.number,
        "pages": paginator.num_pages,
        "items": [_offer(o) for o in page.object_list],
    }


@router.get("/offers/{offer_id}", response={200: OfferOut, **ERRORS})
def offer_detail(request: HttpRequest, offer_id: int) -> dict[str, Any]:
    """One offer (every role)."""
    acting(request, Perm.OFFER_VIEW)
    offer = get_object_or_404(
        Offer.objects.select_related("provider", "district").prefetch_related("need_types"),
        pk=offer_id,
    )
    return _offer(offer)


class ReasonOut(Schema):
    code: str = Field(description="need, legal, unavailable, status, age, german, …")
    fit: bool = Field(description="true: speaks for the offer; false: excludes or warns")
    text: str


class MatchOut(Schema):
    offer_id: int
    title: str
    provider: str
    score: int
    excluded: bool
    checked_on: dt.date = Field(description="the date of the checks (start or today)")
    legal_result: str | None = Field(description="eligibility result; null if not checked")
    reasons: list[ReasonOut]


class MatchQuery(Schema):
    only_needs: bool = False
    include_excluded: bool = True
    limit: int = Field(50, ge=1, le=500)


@router.get("/persons/{person_id}/matches", response={200: list[MatchOut], **ERRORS})
def matches(request: HttpRequest, person_id: int, query: Query[MatchQuery]) -> list[dict[str, Any]]:
    """Offers for a person, ranked: accessible ones first (by open needs they answer,
    legal access on the offer's start date, district, free places, start), then the
    excluded ones with the reason. Uses only what is shared with you: master data are
    required (403 otherwise); without residence data the legal check is left out; open
    needs only from life domains shared with you. 404 out of scope. Logged as "read"."""
    found = person_matches(
        actor=acting(request, Perm.CASE_VIEW),
        person_id=person_id,
        only_needs=query.only_needs,
        limit=query.limit,
    )
    excluded = found.ranked.excluded if query.include_excluded else []
    shown = (found.ranked.accessible + excluded)[: query.limit]
    explained = [found.matcher.explain(m) for m in shown]
    names = need_names(explained)
    return [
        {
            "offer_id": m.offer.id,
            "title": m.offer.title,
            "provider": m.offer.provider,
            "score": m.score,
            "excluded": m.excluded,
            "checked_on": m.on,
            "legal_result": m.legal.result if m.legal else None,
            "reasons": [
                {"code": r.code, "fit": r.fit, "text": reason_text(r, names)} for r in reasons
            ],
        }
        for m, reasons in zip(shown, explained, strict=True)
    ]
