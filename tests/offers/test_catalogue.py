"""The catalogue's filters (selectors.catalogue) and the legal part of the status filter
(offers.access.legally_closed)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.core.models import NeedType
from lotse.offers import access
from lotse.offers.selectors import CatalogueFilters, catalogue, catalogue_page

from ..factories import DistrictFactory, OfferFactory, OrganisationFactory

pytestmark = pytest.mark.django_db


def _titles(**filters) -> set[str]:
    return set(catalogue(CatalogueFilters(**filters)).values_list("title", flat=True))


def _days(n: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=n)


# --- legal access by status -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "status", "closed"),
    [
        # No Duldung, no permit: no integration course, no training, no work.
        ("integrationskurs", "ausreisepflichtig", True),
        ("ausbildung", "ausreisepflichtig", True),
        ("arbeit", "ausreisepflichtig", True),
        # Duldung under § 60a (2) 1: § 44 (4) AufenthG admits only § 60a (2) 3.
        ("integrationskurs", "duldung", True),
        ("integrationskurs", "duldung_ermessen", False),
        ("integrationskurs", "ae_25_2_gfk", False),
        # Asylum seekers: EQ needs the Ausländerbehörde's permission, but is not closed.
        ("eq", "gestattung", False),
        ("bvb", "duldung", False),
        ("berufssprachkurs", "duldung", False),
        # Categories the law does not regulate are open to every status.
        ("sprachkurs", "ausreisepflichtig", False),
        ("beratung", "ausreisepflichtig", False),
    ],
)
def test_legally_closed(category, status, closed):
    assert access.legally_closed(category, status, timezone.localdate()) is closed


def test_unknown_codes_are_never_closed():
    today = timezone.localdate()
    assert access.legally_closed("integrationskurs", "tourist", today) is False
    assert access.legally_closed("zirkus", "ausreisepflichtig", today) is False


def test_legally_closed_is_cached(monkeypatch):
    calls = []
    real = access.evaluate_category

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(access, "evaluate_category", counting)
    monkeypatch.setattr(access, "_cache", {})
    on = timezone.localdate()
    for _ in range(3):
        access.legally_closed("eq", "duldung", on)
    assert len(calls) == 1
    access.legally_closed("eq", "gestattung", on)
    access.legally_closed("eq", "duldung", on - dt.timedelta(days=1))
    assert len(calls) == 3


def test_the_favourable_person_is_as_documented():
    on = dt.date(2026, 11, 21)
    facts = access.favourable_facts("duldung", on)
    assert facts.birth_date == dt.date(2006, 11, 21)
    assert facts.entry_date == dt.date(2016, 11, 21)
    assert facts.status_history[0].status == "duldung"
    assert facts.status_history[0].end is None
    assert facts.flags["identity_clarified"] is True
    assert facts.flags["work_ban_60a6"] is False


def test_status_filter_uses_the_offer_and_the_law(world):
    OfferFactory(title="Integrationskurs", category="integrationskurs")
    OfferFactory(title="EQ Handwerk", category="eq", field_of_action="training")
    OfferFactory(title="Sprachcafé", category="sprachkurs")
    OfferFactory(title="Nur Schutzberechtigte", category="beratung", statuses=["ae_25_2_gfk"])
    assert _titles(status="ausreisepflichtig") == {"Sprachcafé"}
    assert _titles(status="duldung") == {"EQ Handwerk", "Sprachcafé"}
    assert _titles(status="gestattung") == {"Integrationskurs", "EQ Handwerk", "Sprachcafé"}
    assert _titles(status="ae_25_2_gfk") == {
        "Integrationskurs",
        "EQ Handwerk",
        "Sprachcafé",
        "Nur Schutzberechtigte",
    }
    # Only the offers' own restriction, without the law:
    assert _titles(status="ausreisepflichtig", status_by_law=False) == {
        "Integrationskurs",
        "EQ Handwerk",
        "Sprachcafé",
    }


def test_an_offer_that_names_statuses_keeps_them_even_if_the_law_admits_more(world):
    OfferFactory(title="BvB Duldung", category="bvb", statuses=["duldung", "gestattung"])
    assert _titles(status="duldung") == {"BvB Duldung"}
    assert _titles(status="ae_25_1") == set()


# --- the other filters -------------------------------------------------------------------


def test_search_in_any_spelling_or_script(world):
    OfferFactory(title="Sprachcafé für Frauen", provider=world.lead)
    OfferFactory(title="Mova-Treff", description="Українська мова für Geflüchtete")
    OfferFactory(title="Bewerbungstraining")
    assert _titles(q="SPRACHCAFE frauen") == {"Sprachcafé für Frauen"}
    assert _titles(q="fur") == {"Sprachcafé für Frauen", "Mova-Treff"}
    assert _titles(q="ukrainska") == {"Mova-Treff"}
    assert _titles(q="мова") == {"Mova-Treff"}  # Cyrillic finds the Latin title too
    assert _titles(q="Lotsenstadt") == {"Sprachcafé für Frauen"}  # the provider's name
    assert _titles(q="sprachcafe bewerbung") == set()  # every word must occur


def test_search_finds_the_needs_an_offer_answers(world):
    need = NeedType.objects.get(code="ausbildungsvorbereitung")
    OfferFactory(title="Werkstattjahr", need_types=[need])
    OfferFactory(title="Anderes")
    assert _titles(q="Ausbildungsvorbereitung") == {"Werkstattjahr"}


def test_field_category_district_provider(world):
    north, south = DistrictFactory(code="nord"), DistrictFactory(code="sued")
    jc = OrganisationFactory(name="Bildungswerk")
    OfferFactory(title="A", field_of_action="language", category="sprachkurs", district=north)
    OfferFactory(title="B", field_of_action="work", category="arbeit", district=south, provider=jc)
    assert _titles(field_of_action="work") == {"B"}
    assert _titles(category="sprachkurs") == {"A"}
    assert _titles(district_id=north.pk) == {"A"}
    assert _titles(provider_id=jc.pk) == {"B"}


def test_need_type_filter_lists_an_offer_once(world):
    b1, b2 = NeedType.objects.filter(code__in=["deutsch_b1", "deutsch_b2"])
    OfferFactory(title="B1/B2", need_types=[b1, b2])
    OfferFactory(title="B2", need_types=[b2])
    OfferFactory(title="ohne")
    assert list(
        catalogue(CatalogueFilters(need_type_id=b1.pk)).values_list("title", flat=True)
    ) == ["B1/B2"]
    assert sorted(
        catalogue(CatalogueFilters(need_type_id=b2.pk)).values_list("title", flat=True)
    ) == ["B1/B2", "B2"]


def test_age(world):
    OfferFactory(title="U27", age_min=18, age_max=27)
    OfferFactory(title="ab 25", age_min=25)
    OfferFactory(title="alle")
    assert _titles(age=17) == {"alle"}
    assert _titles(age=18) == {"U27", "alle"}
    assert _titles(age=27) == {"U27", "ab 25", "alle"}
    assert _titles(age=28) == {"ab 25", "alle"}


def test_language_of_instruction(world):
    OfferFactory(title="arabisch", languages=["de", "ar"])
    OfferFactory(title="deutsch", languages=["de"])
    assert _titles(language="ar") == {"arabisch"}
    assert _titles(language="de") == {"arabisch", "deutsch"}
    assert _titles(language="ti") == set()


def test_only_free_places(world):
    OfferFactory(title="voll", capacity=10, occupied=10)
    OfferFactory(title="frei", capacity=10, occupied=9)
    OfferFactory(title="offen", capacity=None)
    assert _titles(free_places=True) == {"frei", "offen"}
    assert _titles() == {"voll", "frei", "offen"}


def test_past_and_inactive_offers_only_on_request(world):
    OfferFactory(title="vorbei", starts_on=_days(-100), ends_on=_days(-1))
    OfferFactory(title="endet heute", ends_on=_days(0))
    OfferFactory(title="deaktiviert", is_active=False)
    assert _titles() == {"endet heute"}
    assert _titles(include_past=True) == {"vorbei", "endet heute"}
    assert _titles(include_inactive=True) == {"endet heute", "deaktiviert"}


def test_sort_by_title_or_start(world):
    OfferFactory(title="A später", starts_on=_days(30))
    OfferFactory(title="B laufend", rolling_entry=True)
    OfferFactory(title="C bald", starts_on=_days(5))
    by_title = [o.title for o in catalogue_page(CatalogueFilters(), sort="title")]
    by_start = [o.title for o in catalogue_page(CatalogueFilters(), sort="start")]
    assert by_title == ["A später", "B laufend", "C bald"]
    assert by_start == ["C bald", "A später", "B laufend"]  # without a start date: last
    assert [o.title for o in catalogue_page(CatalogueFilters(), sort="nonsense")] == by_title


def test_pages(world, settings):
    settings.LOTSE_PAGE_SIZE = 2
    for i in range(5):
        OfferFactory(title=f"Angebot {i}")
    page = catalogue_page(CatalogueFilters(), page=3)
    assert page.paginator.count == 5 and page.paginator.num_pages == 3
    assert [o.title for o in page] == ["Angebot 4"]
    assert catalogue_page(CatalogueFilters(), page=99).number == 3
