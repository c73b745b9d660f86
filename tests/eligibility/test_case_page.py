"""The page "Zugang & Rechtskreis" of a case and its facts form: scope, consent,
logging, bad input, query count (issue #4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from lotse.core.models import AccessLogEntry
from lotse.eligibility.models import PersonFacts
from lotse.people.models import PersonLanguage, ResidenceStatusPeriod

from ..conftest import login
from ..factories import BenefitFactory, ResidenceFactory

pytestmark = pytest.mark.django_db


def _url(world, **query):
    url = reverse("eligibility:case", args=[world.case.pk])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


@pytest.fixture
def duldung_world(world):
    """The world's person: entered 2019, Gestattung, then a Duldung since 2021, working."""
    person = world.case.person
    person.entry_date = dt.date(2019, 1, 10)
    person.birth_date = dt.date(2000, 4, 17)
    person.nationality = "AF"
    person.save()
    ResidenceStatusPeriod.objects.filter(person=person).delete()
    ResidenceFactory(
        person=person,
        status="gestattung",
        valid_from=dt.date(2019, 2, 1),
        valid_to=dt.date(2021, 5, 31),
    )
    ResidenceFactory(person=person, status="duldung", valid_from=dt.date(2021, 6, 1))
    BenefitFactory(person=person, regime="asylblg_3", valid_from=dt.date(2019, 2, 1))
    PersonLanguage.objects.create(person=person, language="de", level="A2")
    PersonFacts.objects.create(
        person=person,
        identity_clarified=True,
        work_ban_60a6=False,
        reception_centre=False,
        employed_since=dt.date(2026, 3, 1),
        weekly_hours_employed=30,
        livelihood_secured_since=dt.date(2026, 5, 1),
        labour_market_proximity=True,
    )
    return world


def test_lead_case_manager_sees_results_and_upcoming_and_is_logged(client, duldung_world):
    w = duldung_world
    login(client, w.case_manager)
    before = AccessLogEntry.objects.count()
    response = client.get(_url(w, on="2026-11-21"))
    assert response.status_code == 200
    page = response.content.decode()
    # Duldung since 2021, entered 2019: § 2 AsylbLG after 36 months; BAB after 15 months.
    assert "bab.duldung.15m" in page
    assert "beschaeftigung.duldung.permit" in page
    # Beschäftigungsduldung reachable once the livelihood has been secured for 12 months.
    assert "01.05.2027" in page
    entries = list(AccessLogEntry.objects.order_by("seq")[before:])
    eligibility = [e for e in entries if e.object_type == "eligibility"]
    assert len(eligibility) == 1
    assert eligibility[0].person_id == w.case.person_id
    assert set(eligibility[0].categories) == {"master", "residence", "benefits"}
    assert eligibility[0].basis == "lead_organisation"


def test_date_before_a_law_change_follows_the_old_law(client, duldung_world):
    login(client, duldung_world.case_manager)
    # 18 months after entry under the 2019 law: analogous benefits on 2020-08-10 already.
    old = client.get(_url(duldung_world, on="2021-07-01")).content.decode()
    assert "benefit.asylblg2.18m" not in old  # rule ids of the regime are not shown...
    assert "Analogleistungen" in old or "analogous" in old  # ...its label is


def test_partner_with_covering_consent_reads_on_consent(client, duldung_world):
    w = duldung_world
    login(client, w.partner_staff)
    response = client.get(_url(w))
    assert response.status_code == 200
    entry = AccessLogEntry.objects.filter(object_type="eligibility").latest("seq")
    assert entry.basis == "consent"
    # A partner may not edit the facts: no link to the form.
    assert reverse("eligibility:facts", args=[w.case.pk]) not in response.content.decode()


def test_partner_without_residence_shared_gets_403_and_nothing_is_logged(client, duldung_world):
    w = duldung_world
    w.consent.categories = ["master", "education", "work"]
    w.consent.save()
    login(client, w.partner_staff)
    response = client.get(_url(w))
    assert response.status_code == 403
    assert not AccessLogEntry.objects.filter(object_type="eligibility").exists()


def test_benefits_not_shared_leaves_them_out(client, duldung_world):
    w = duldung_world
    w.consent.categories = ["master", "residence"]
    w.consent.save()
    login(client, w.partner_staff)
    response = client.get(_url(w))
    assert response.status_code == 200
    assert "AsylbLG-Grundleistungen" not in response.content.decode()  # the benefit period
    entry = AccessLogEntry.objects.filter(object_type="eligibility").latest("seq")
    assert set(entry.categories) == {"master", "residence"}


def test_out_of_scope_is_404(client, duldung_world):
    login(client, duldung_world.outsider)
    assert client.get(_url(duldung_world)).status_code == 404
    assert not AccessLogEntry.objects.filter(object_type="eligibility").exists()


@pytest.mark.parametrize("role", ["volunteer", "analyst", "coordinator"])
def test_roles_without_case_view_get_403(client, duldung_world, role):
    login(client, getattr(duldung_world, role))
    assert client.get(_url(duldung_world)).status_code == 403


def test_missing_facts_are_named_and_linked(client, world):
    login(client, world.case_manager)
    page = client.get(_url(world)).content.decode()
    assert "nicht entscheidbar" in page.lower() or "cannot be decided" in page.lower()
    assert reverse("eligibility:facts", args=[world.case.pk]) in page


def test_invalid_date_is_a_field_error_not_a_500(client, world):
    login(client, world.case_manager)
    response = client.get(_url(world, on="2026-02-31"))
    assert response.status_code == 200
    assert 'aria-describedby="id_on_error' in response.content.decode()


def test_query_count_does_not_grow_with_history(
    client, duldung_world, django_assert_max_num_queries
):
    login(client, duldung_world.case_manager)
    for year in range(2010, 2018):
        ResidenceFactory(
            person=duldung_world.case.person,
            status="gestattung",
            valid_from=dt.date(year, 1, 1),
            valid_to=dt.date(year, 6, 30),
        )
    with django_assert_max_num_queries(30):
        assert client.get(_url(duldung_world)).status_code == 200


def test_facts_form_saves_and_logs(client, world):
    login(client, world.case_manager)
    url = reverse("eligibility:facts", args=[world.case.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "identity_clarified": "true",
            "work_ban_60a6": "false",
            "employed_since": "2025-01-15",
            "weekly_hours_employed": "25",
            "asylum_application_date": "",
            "reception_centre": "unknown",
        },
    )
    assert response.status_code == 302
    record = PersonFacts.objects.get(person=world.case.person)
    assert record.identity_clarified is True and record.work_ban_60a6 is False
    assert record.reception_centre is None
    assert record.employed_since == dt.date(2025, 1, 15)
    entry = AccessLogEntry.objects.filter(object_type="eligibility_facts").latest("seq")
    assert entry.action == "create" and entry.categories == ["residence"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("employed_since", "2999-01-01"),
        ("weekly_hours_employed", "120"),
        ("training_since", "1990-01-01"),
    ],
)
def test_facts_form_rejects_bad_input_at_the_field_and_writes_nothing(client, world, field, value):
    login(client, world.case_manager)
    url = reverse("eligibility:facts", args=[world.case.pk])
    response = client.post(url, {field: value, "identity_clarified": "true"})
    assert response.status_code == 200
    assert f'id="id_{field}_error' in response.content.decode()
    assert not PersonFacts.objects.exists()


@pytest.mark.parametrize("role", ["partner_staff", "volunteer"])
def test_facts_form_is_lead_only(client, world, role):
    login(client, getattr(world, role))
    url = reverse("eligibility:facts", args=[world.case.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"identity_clarified": "true"}).status_code == 403
    assert not PersonFacts.objects.exists()
