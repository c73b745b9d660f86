"""The catalogue pages: who sees and edits what, the forms, htmx and the query count."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lotse.core.models import NeedType
from lotse.core.roles import ROLE_PERMISSIONS, Perm
from lotse.offers.models import Offer

from ..conftest import login
from ..factories import DistrictFactory, OfferFactory
from .conftest import ROLES, membership

LIST = reverse("offers:list")


def _role(role: str) -> str:
    return {"partner_colleague": "partner_staff", "outsider": "case_manager"}.get(role, role)


def _can_edit_lead_offer(world, role: str) -> bool:
    perms = ROLE_PERMISSIONS[_role(role)]
    if Perm.OFFER_EDIT_ALL in perms:
        return True
    return Perm.OFFER_EDIT in perms and membership(world, role).organisation == world.lead


def _form_data(**changes) -> dict:
    today = timezone.localdate()
    data = {
        "title": "Berufssprachkurs B2",
        "description": "",
        "field_of_action": "language",
        "category": "berufssprachkurs",
        "level": "B2",
        "age_min": "",
        "age_max": "",
        "german_min": "B1",
        "prerequisites": "",
        "statuses": [],
        "district": "",
        "address": "Hauptstraße 1",
        "starts_on": (today + dt.timedelta(days=10)).isoformat(),
        "ends_on": (today + dt.timedelta(days=120)).isoformat(),
        "schedule": "Mo–Do 8:30–12:45",
        "capacity": "18",
        "languages": ["de"],
        "funding": "bamf",
        "cost_note": "",
        "contact_name": "Frau Beispiel",
        "contact_email": "kurse@example.org",
        "contact_phone": "",
        "review_due": (today + dt.timedelta(days=180)).isoformat(),
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- who sees what -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_every_member_reads_the_catalogue(world, client, role):
    offer = OfferFactory(provider=world.lead, title="Sprachcafé")
    login(client, membership(world, role))
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert f'href="{LIST}"' in body  # in the main navigation
    assert reverse("offers:detail", args=[offer.pk]) in body
    detail = client.get(reverse("offers:detail", args=[offer.pk]))
    assert detail.status_code == 200
    edit_url = reverse("offers:edit", args=[offer.pk])
    assert (edit_url in detail.content.decode()) == _can_edit_lead_offer(world, role)
    assert (reverse("offers:new") in body) == (Perm.OFFER_EDIT in ROLE_PERMISSIONS[_role(role)])


@pytest.mark.parametrize("role", ROLES)
def test_who_may_edit(world, client, role):
    lead_offer = OfferFactory(provider=world.lead)
    partner_offer = OfferFactory(provider=world.partner)
    actor = membership(world, role)
    login(client, actor)
    perms = ROLE_PERMISSIONS[_role(role)]
    assert client.get(reverse("offers:new")).status_code == (
        200 if Perm.OFFER_EDIT in perms else 403
    )
    assert client.get(reverse("offers:edit", args=[lead_offer.pk])).status_code == (
        200 if _can_edit_lead_offer(world, role) else 403
    )
    own_partner = Perm.OFFER_EDIT in perms and actor.organisation == world.partner
    assert client.get(reverse("offers:edit", args=[partner_offer.pk])).status_code == (
        200 if Perm.OFFER_EDIT_ALL in perms or own_partner else 403
    )
    deactivate = client.post(reverse("offers:deactivate", args=[lead_offer.pk]))
    assert deactivate.status_code == (302 if _can_edit_lead_offer(world, role) else 403)


def test_anonymous_users_go_to_the_login(world, client):
    offer = OfferFactory()
    for url in (
        LIST,
        reverse("offers:detail", args=[offer.pk]),
        reverse("offers:new"),
        reverse("offers:edit", args=[offer.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("core:login")), url
    response = client.post(reverse("offers:deactivate", args=[offer.pk]))
    assert response.status_code == 302 and Offer.objects.get(pk=offer.pk).is_active


def test_an_unknown_offer_is_404(world, as_member):
    client = as_member(world.coordinator)
    assert client.get(reverse("offers:detail", args=[999])).status_code == 404
    assert client.get(reverse("offers:edit", args=[999])).status_code == 404


# --- the list page -------------------------------------------------------------------------


def test_filters_on_the_page(world, as_member):
    north = DistrictFactory(code="nord", name="Nord")
    OfferFactory(title="Integrationskurs Nord", category="integrationskurs", district=north)
    OfferFactory(title="Sprachcafé", capacity=8, occupied=3, languages=["de", "ar"])
    client = as_member(world.volunteer)
    body = client.get(LIST, {"status": "ausreisepflichtig"}).content.decode()
    assert "Sprachcafé" in body and "Integrationskurs Nord" not in body
    body = client.get(LIST, {"district": north.pk}).content.decode()
    assert "Integrationskurs Nord" in body and "Sprachcafé" not in body
    body = client.get(LIST, {"q": "sprachcafe"}).content.decode()
    assert "Sprachcafé" in body and "5 of 8" in body
    assert "Arabic" in body or "Arabisch" in body


def test_an_invalid_filter_is_shown_and_the_rest_still_filters(world, as_member):
    OfferFactory(title="Sprachcafé")
    OfferFactory(title="Werkstatt")
    response = as_member(world.volunteer).get(LIST, {"age": "alt", "q": "werkstatt"})
    assert response.status_code == 200
    assert "age" in response.context["form"].errors
    assert [o.title for o in response.context["page"]] == ["Werkstatt"]


def test_badges_dates_and_places(world, as_member):
    today = timezone.localdate()
    OfferFactory(
        title="Altes Angebot",
        review_due=today - dt.timedelta(days=1),
        rolling_entry=True,
        capacity=None,
    )
    body = as_member(world.coordinator).get(LIST).content.decode()
    assert "kern-badge--warning" in body  # outdated
    assert "rolling entry" in body or "laufender Einstieg" in body


def test_htmx_gets_only_the_results(world, as_member):
    OfferFactory(title="Sprachcafé")
    response = as_member(world.volunteer).get(LIST, {"q": "sprach"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in body and 'id="result-count"' in body and "Sprachcafé" in body


def test_deactivated_offers_only_for_editors(world, as_member):
    OfferFactory(title="Eingestellt", is_active=False)
    client = as_member(world.volunteer)
    assert "include_inactive" not in client.get(LIST).context["form"].fields
    assert "Eingestellt" not in client.get(LIST, {"include_inactive": "on"}).content.decode()
    client = as_member(world.coordinator)
    assert "Eingestellt" in client.get(LIST, {"include_inactive": "on"}).content.decode()


def _make_offers(world, n: int, start: int = 0) -> None:
    needs = list(NeedType.objects.filter(code__in=["deutsch_b1", "deutsch_b2"]))
    district = DistrictFactory(code="mitte", name="Mitte")
    for i in range(start, start + n):
        OfferFactory(
            provider=world.lead if i % 2 else world.partner,
            title=f"Kurs {i:03d}",
            category="sprachkurs",
            district=district,
            starts_on=timezone.localdate() + dt.timedelta(days=i),
            languages=["de", "ar"],
            capacity=10,
            occupied=i % 10,
            need_types=needs,
        )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"status": "duldung", "sort": "start", "age": "20", "free_places": "on"},
        {"need_type": "deutsch_b1", "q": "kurs", "language": "ar", "page": "2"},
    ],
)
def test_list_queries_do_not_grow_with_the_offers(
    world, as_member, django_assert_max_num_queries, params
):
    client = as_member(world.coordinator)
    if "need_type" in params:
        params = {**params, "need_type": NeedType.objects.get(code=params["need_type"]).pk}
    _make_offers(world, 3)
    with CaptureQueriesContext(connection) as few:
        assert client.get(LIST, params).status_code == 200
    _make_offers(world, 27, start=3)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST, params)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) > 0
    assert len(few.captured_queries) <= 20


def test_detail_queries_do_not_grow_with_the_needs(world, as_member):
    client = as_member(world.volunteer)
    offer = OfferFactory(need_types=list(NeedType.objects.all()[:1]))
    url = reverse("offers:detail", args=[offer.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    offer.need_types.set(NeedType.objects.all()[:10])
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the form ------------------------------------------------------------------------------


def test_a_provider_creates_an_offer_for_its_own_organisation(world, as_member):
    client = as_member(world.team_lead)
    need = NeedType.objects.get(code="deutsch_b2")
    page = client.get(reverse("offers:new"))
    assert "provider" not in page.context["form"].fields
    data = _form_data(
        need_types=[need.pk], statuses=["duldung", "gestattung"], provider=world.partner.pk
    )
    response = client.post(reverse("offers:new"), data, follow=True)
    offer = Offer.objects.get()
    assert response.redirect_chain[-1][0] == reverse("offers:detail", args=[offer.pk])
    assert offer.provider == world.lead  # a provider in the request is ignored
    assert offer.statuses == ["gestattung", "duldung"]
    assert list(offer.need_types.all()) == [need]
    assert offer.updated_by == world.team_lead.user
    assert "berufssprachkurs b" in offer.search_text
    body = response.content.decode()
    assert "Berufssprachkurs B2" in body and "kern-alert--success" in body


def test_a_coordinator_chooses_the_provider(world, as_member):
    client = as_member(world.coordinator)
    form = client.get(reverse("offers:new")).context["form"]
    assert form["provider"].value() == world.lead.pk
    response = client.post(reverse("offers:new"), _form_data(provider=world.partner.pk))
    assert response.status_code == 302
    assert Offer.objects.get().provider == world.partner


def test_bad_input_gives_a_message_at_the_field_and_writes_nothing(world, as_member, settings):
    settings.LANGUAGE_CODE = "de"  # this test reads the German messages (the default)
    client = as_member(world.coordinator)
    today = timezone.localdate()
    response = client.post(
        reverse("offers:new"),
        _form_data(
            provider=world.lead.pk,
            title="",
            starts_on=(today + dt.timedelta(days=30)).isoformat(),
            ends_on=(today + dt.timedelta(days=1)).isoformat(),
        ),
    )
    assert response.status_code == 422
    assert not Offer.objects.exists()
    body = response.content.decode()
    # The app's field messages are German; the field template ties them to the field.
    assert 'id="id_title_error"' in body and "Bitte füllen Sie dieses Feld aus." in body
    # Rules of the service come only after the form is valid:
    response = client.post(
        reverse("offers:new"),
        _form_data(
            provider=world.lead.pk,
            starts_on=(today + dt.timedelta(days=30)).isoformat(),
            ends_on=(today + dt.timedelta(days=1)).isoformat(),
            age_min="30",
            age_max="20",
        ),
    )
    assert response.status_code == 422
    assert not Offer.objects.exists()
    body = response.content.decode()
    assert 'id="id_ends_on_error"' in body and 'id="id_age_max_error"' in body
    assert 'aria-describedby="id_ends_on_error' in body
    form = response.context["form"]
    assert set(form.errors) == {"ends_on", "age_max"}


def test_edit_keeps_the_participants_and_checks_the_capacity(world, as_member):
    offer = OfferFactory(provider=world.lead, title="Sprachkurs", capacity=15, occupied=12)
    client = as_member(world.org_admin)
    url = reverse("offers:edit", args=[offer.pk])
    page = client.get(url)
    assert page.context["form"]["title"].value() == "Sprachkurs"
    response = client.post(url, _form_data(title="Sprachkurs neu", capacity="10"))
    assert response.status_code == 422
    assert 'id="id_capacity_error"' in response.content.decode()
    offer.refresh_from_db()
    assert (offer.title, offer.capacity) == ("Sprachkurs", 15)
    response = client.post(url, _form_data(title="Sprachkurs neu", capacity="20"))
    assert response.status_code == 302
    offer.refresh_from_db()
    assert (offer.title, offer.capacity, offer.occupied) == ("Sprachkurs neu", 20, 12)


def test_an_outdated_offer_can_be_saved_with_its_old_review_date(world, as_member):
    past = timezone.localdate() - dt.timedelta(days=10)
    offer = OfferFactory(provider=world.lead, review_due=past)
    client = as_member(world.coordinator)
    url = reverse("offers:edit", args=[offer.pk])
    response = client.post(url, _form_data(provider=world.lead.pk, review_due=past.isoformat()))
    assert response.status_code == 302
    response = client.post(
        url,
        _form_data(provider=world.lead.pk, review_due=(past - dt.timedelta(days=1)).isoformat()),
    )
    assert response.status_code == 422 and "review_due" in response.context["form"].errors


def test_a_provider_cannot_post_to_another_providers_offer(world, as_member):
    offer = OfferFactory(provider=world.lead, title="Vorher")
    client = as_member(world.partner_staff)
    response = client.post(reverse("offers:edit", args=[offer.pk]), _form_data(title="Nachher"))
    assert response.status_code == 403
    assert Offer.objects.get(pk=offer.pk).title == "Vorher"


def test_deactivate_and_reactivate(world, as_member):
    offer = OfferFactory(provider=world.lead)
    client = as_member(world.coordinator)
    assert client.get(reverse("offers:deactivate", args=[offer.pk])).status_code == 405
    response = client.post(reverse("offers:deactivate", args=[offer.pk]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("offers:detail", args=[offer.pk])
    assert not Offer.objects.get(pk=offer.pk).is_active
    assert reverse("offers:reactivate", args=[offer.pk]) in response.content.decode()
    client.post(reverse("offers:reactivate", args=[offer.pk]))
    assert Offer.objects.get(pk=offer.pk).is_active


def test_the_detail_page_shows_every_field(world, as_member):
    need = NeedType.objects.get(code="deutsch_b1")
    offer = OfferFactory(
        provider=world.lead,
        title="Integrationskurs",
        description="Mit Kinderbetreuung",
        category="integrationskurs",
        statuses=["ae_25_2_gfk"],
        age_min=18,
        age_max=27,
        prerequisites="Einstufungstest",
        address="Markt 1",
        schedule="vormittags",
        capacity=20,
        occupied=5,
        contact_email="kurs@example.org",
        contact_phone="0211 99",
        need_types=[need],
    )
    body = as_member(world.analyst).get(reverse("offers:detail", args=[offer.pk])).content.decode()
    for text in (
        "Integrationskurs",
        "Mit Kinderbetreuung",
        "Deutsch B1",
        "Einstufungstest",
        "Markt 1",
        "vormittags",
        "15 of 20",
        "mailto:kurs@example.org",
        "0211 99",
        "18 to 27",
        offer.review_due.strftime("%d.%m.%Y"),
    ):
        assert text in body, text
    assert "§ 25 (2) AufenthG" in body or "§ 25 Abs. 2" in body  # the status label


def test_the_list_links_an_export_of_what_it_shows(client, world):
    """The export link on the catalogue carries the filters: it exports what is shown."""
    from tests.factories import OfferFactory

    from ..conftest import login

    OfferFactory(title="Integrationskurs Mitte", category="integrationskurs")
    OfferFactory(title="Sprachcafé", category="sprachkurs")
    login(client, world.case_manager)
    page = client.get("/offers/?category=integrationskurs").content.decode()
    start = page.index('id="export-csv" href="') + len('id="export-csv" href="')
    href = page[start : page.index('"', start)].replace("&amp;", "&")
    assert "category=integrationskurs" in href
    body = client.get(href).content.decode("utf-8-sig")
    assert "Integrationskurs Mitte" in body and "Sprachcafé" not in body


def test_the_catalogue_pages_through_long_results(client, world, settings):
    """More offers than a page holds: the shared pagination links to the next page,
    keeping the filters."""
    from tests.factories import OfferFactory

    from ..conftest import login

    settings.LOTSE_PAGE_SIZE = 2
    for i in range(3):
        OfferFactory(title=f"Kurs {i}", category="sprachkurs")
    login(client, world.case_manager)
    page = client.get("/offers/?category=sprachkurs").content.decode()
    assert "page=2" in page and "category=sprachkurs" in page
    second = client.get("/offers/?category=sprachkurs&page=2").content.decode()
    assert "Kurs 2" in second
