"""The access decision (DESIGN §5.2): consent states, agreements, break-glass, and the
SQL twin agreeing with the pure decision (hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lotse.core.models import AccessLogEntry
from lotse.privacy.access import (
    ALL_CATEGORIES,
    AgreementFact,
    Basis,
    ConsentFact,
    Situation,
    case_access,
    category_q,
    decide,
    visible_cases,
)
from lotse.privacy.models import SharingAgreement

from .factories import ConsentFactory

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 12, 0))
TODAY = NOW.date()
CATS = sorted(ALL_CATEGORIES)


def _consent(**kw) -> ConsentFact:
    base = {
        "categories": frozenset({"education", "work"}),
        "purpose": "casework",
        "organisation_ids": frozenset({2}),
        "user_ids": frozenset(),
        "signed_on": TODAY - dt.timedelta(days=10),
        "valid_until": None,
        "withdrawn_at": None,
    }
    base.update(kw)
    return ConsentFact(**base)


def _situation(**kw) -> Situation:
    base = {
        "actor_org_id": 2,
        "actor_org_type": "jobcenter",
        "actor_user_id": 20,
        "may_view": True,
        "lead_org_id": 1,
        "lead_org_type": "ki",
        "on_team": True,
    }
    base.update(kw)
    return Situation(**base)


# --- the pure decision -----------------------------------------------------------------


def test_lead_sees_everything_team_member_only_what_consent_covers():
    lead = _situation(actor_org_id=1, on_team=False)
    assert all(decide(lead, c, "casework", NOW).basis == Basis.LEAD_ORGANISATION for c in CATS)
    partner = _situation(consents=(_consent(),))
    allowed = {c for c in CATS if decide(partner, c, "casework", NOW).allowed}
    assert allowed == {"education", "work"}
    assert decide(partner, "work", "referral", NOW).allowed is False  # other purpose


@pytest.mark.parametrize(
    "consent",
    [
        _consent(withdrawn_at=NOW - dt.timedelta(minutes=1)),
        _consent(valid_until=TODAY - dt.timedelta(days=1)),
        _consent(signed_on=TODAY + dt.timedelta(days=1)),
        _consent(organisation_ids=frozenset({3})),
        _consent(user_ids=frozenset({99})),
    ],
    ids=["withdrawn", "expired", "not yet signed", "other organisation", "other named staff"],
)
def test_consent_that_does_not_apply_grants_nothing(consent):
    situation = _situation(consents=(consent,))
    assert not any(decide(situation, c, "casework", NOW).allowed for c in CATS)


def test_consent_needs_the_team_and_named_staff_member():
    assert not decide(
        _situation(on_team=False, consents=(_consent(),)), "work", "casework", NOW
    ).allowed
    named = _situation(consents=(_consent(user_ids=frozenset({20})),))
    assert decide(named, "work", "casework", NOW).allowed


def test_agreement_by_type_and_validity():
    agreement = AgreementFact(
        categories=frozenset({"residence"}),
        purposes=frozenset({"casework"}),
        source_org_id=None,
        source_type="ki",
        receiver_org_id=None,
        receiver_type="jobcenter",
        valid_from=TODAY - dt.timedelta(days=1),
        valid_to=None,
        legal_basis="§ 69 SGB X",
    )
    situation = _situation(agreements=(agreement,))
    decision = decide(situation, "residence", "casework", NOW)
    assert (
        decision.allowed and decision.basis == Basis.AGREEMENT and decision.detail == "§ 69 SGB X"
    )
    assert not decide(situation, "health", "casework", NOW).allowed
    assert not decide(
        _situation(agreements=(agreement,), lead_org_type="jmd"), "residence", "casework", NOW
    ).allowed
    assert not decide(
        _situation(agreements=(agreement,), on_team=False), "residence", "casework", NOW
    ).allowed


def test_break_glass_grants_everything_until_it_expires():
    situation = _situation(on_team=False, break_glass_until=NOW + dt.timedelta(hours=1))
    assert all(decide(situation, c, "casework", NOW).basis == Basis.BREAK_GLASS for c in CATS)
    assert not decide(situation, "health", "casework", NOW + dt.timedelta(hours=2)).allowed


def test_roles_without_case_view_get_nothing():
    assert not decide(_situation(may_view=False, actor_org_id=1), "master", "casework", NOW).allowed


consents = st.builds(
    ConsentFact,
    categories=st.frozensets(st.sampled_from(CATS)),
    purpose=st.sampled_from(["casework", "referral"]),
    organisation_ids=st.frozensets(st.sampled_from([1, 2, 3]), min_size=1),
    user_ids=st.frozensets(st.sampled_from([20, 21])),
    signed_on=st.dates(TODAY - dt.timedelta(days=400), TODAY + dt.timedelta(days=5)),
    valid_until=st.none() | st.dates(TODAY - dt.timedelta(days=5), TODAY + dt.timedelta(days=400)),
    withdrawn_at=st.none() | st.just(NOW - dt.timedelta(hours=1)),
)
situations = st.builds(
    Situation,
    actor_org_id=st.sampled_from([1, 2, 3]),
    actor_org_type=st.sampled_from(["ki", "jobcenter"]),
    actor_user_id=st.sampled_from([20, 21]),
    may_view=st.booleans(),
    lead_org_id=st.sampled_from([1, 2, 3]),
    lead_org_type=st.sampled_from(["ki", "jobcenter"]),
    on_team=st.booleans(),
    consents=st.tuples() | st.tuples(consents) | st.tuples(consents, consents),
)


@given(situations, st.sampled_from(CATS), st.sampled_from(["casework", "referral"]))
def test_properties_of_the_decision(situation, category, purpose):
    decision = decide(situation, category, purpose, NOW)
    if not situation.may_view:
        assert not decision.allowed
    elif situation.actor_org_id == situation.lead_org_id:
        assert decision.basis == Basis.LEAD_ORGANISATION
    elif not situation.on_team:
        assert not decision.allowed  # no break-glass in these situations
    if decision.basis == Basis.CONSENT:
        # Some consent really covers it: the category, the purpose, the organisation.
        assert any(
            category in c.categories
            and c.purpose == purpose
            and situation.actor_org_id in c.organisation_ids
            and c.withdrawn_at is None
            for c in situation.consents
        )
    # Withdrawing every consent never adds access.
    withdrawn = Situation(
        **{
            **situation.__dict__,
            "consents": tuple(
                ConsentFact(**{**c.__dict__, "withdrawn_at": NOW - dt.timedelta(seconds=1)})
                for c in situation.consents
            ),
        }
    )
    if decide(withdrawn, category, purpose, NOW).allowed:
        assert decision.allowed


# --- the same through the database --------------------------------------------------------


def test_partial_consent_on_the_case_page(world, as_member):
    world.consent.categories = ["education", "work"]
    world.consent.save()
    access = case_access(world.partner_staff, world.case)
    assert set(access.categories) == {"education", "work"}
    body = (
        as_member(world.partner_staff)
        .get(reverse("casework:detail", args=[world.case.pk]))
        .content.decode()
    )
    assert "Haddad" in body  # the name identifies the case
    assert "nicht freigegeben" in body or "not shared" in body
    assert "Duldung" not in body  # residence is not shared
    entries = AccessLogEntry.objects.filter(
        action="read", person_id=world.case.person_id, organisation=world.partner
    )
    logged = {c for e in entries for c in e.categories}
    assert "residence" not in logged and {"master"} <= logged


def test_withdrawal_takes_effect_at_once(world, as_member):
    client = as_member(world.partner_staff)
    url = reverse("casework:detail", args=[world.case.pk])
    assert client.get(url).status_code == 200
    world.consent.withdrawn_at = timezone.now()
    world.consent.save()
    assert client.get(url).status_code == 404
    assert "Haddad" not in client.get(reverse("casework:list")).content.decode()
    assert not visible_cases(world.partner_staff).exists()


def test_expired_consent_grants_nothing(world, as_member):
    world.consent.signed_on = timezone.localdate() - dt.timedelta(days=400)
    world.consent.valid_until = timezone.localdate() - dt.timedelta(days=1)
    world.consent.save()
    assert (
        as_member(world.partner_staff)
        .get(reverse("casework:detail", args=[world.case.pk]))
        .status_code
        == 404
    )


def test_agreement_gives_access_without_consent(world, as_member):
    world.consent.delete()
    assert not visible_cases(world.partner_staff).exists()
    SharingAgreement.objects.create(
        name="KI → Jobcenter",
        source_type="ki",
        receiver_type="jobcenter",
        categories=["work", "benefits"],
        purposes=["casework"],
        legal_basis="§ 69 SGB X",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
    )
    access = case_access(world.partner_staff, world.case)
    assert access.categories == {"work": Basis.AGREEMENT, "benefits": Basis.AGREEMENT}
    assert list(visible_cases(world.partner_staff)) == [world.case]


CONSENT_CASES = [
    {"categories": ["work"]},
    {"categories": ["education", "health"], "purpose": "referral"},
    {"categories": ["residence"], "valid_until": -1},
    {"categories": ["master", "notes"], "withdrawn": True},
    {"categories": ["plan"], "named_other": True},
    {"categories": ["plan"], "named_self": True},
]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.sampled_from(CONSENT_CASES), st.sampled_from(CATS))
def test_sql_twin_agrees_with_the_decision(world, spec, category):
    """What lists and counts (SQL) allow is exactly what the page (Python) allows."""
    from lotse.casework.models import Case

    world.consent.categories = spec["categories"]
    world.consent.purpose = spec.get("purpose", "casework")
    world.consent.valid_until = (
        timezone.localdate() + dt.timedelta(days=spec["valid_until"])
        if "valid_until" in spec
        else None
    )
    world.consent.withdrawn_at = timezone.now() if spec.get("withdrawn") else None
    world.consent.save()
    world.consent.named_users.clear()
    if spec.get("named_other"):
        world.consent.named_users.add(world.partner_colleague.user)
    if spec.get("named_self"):
        world.consent.named_users.add(world.partner_staff.user)
    actor = world.partner_staff
    in_sql = Case.objects.filter(category_q(actor, category), pk=world.case.pk).exists()
    assert in_sql == case_access(actor, world.case).allows(category)
    visible = visible_cases(actor).filter(pk=world.case.pk).exists()
    assert visible == case_access(actor, world.case).visible


def test_extra_consents_are_merged_per_category(world):
    world.consent.categories = ["work"]
    world.consent.save()
    ConsentFactory(
        person=world.case.person,
        categories=["education"],
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[world.partner],
    )
    assert set(case_access(world.partner_staff, world.case).categories) == {"work", "education"}


def test_agreement_from_anyone_shows_the_case_in_lists(world):
    """Regression: an agreement without a source must not vanish from the SQL twin."""
    world.consent.withdrawn_at = timezone.now()
    world.consent.save()
    SharingAgreement.objects.create(
        name="Alle → Jobcenter",
        receiver_type="jobcenter",
        categories=["work"],
        purposes=["casework"],
        legal_basis="§ 69 SGB X",
        valid_from=timezone.localdate() - dt.timedelta(days=1),
    )
    assert case_access(world.partner_staff, world.case).categories == {"work": Basis.AGREEMENT}
    assert list(visible_cases(world.partner_staff)) == [world.case]


def test_duplicate_check_and_household_search_need_master_data(world, as_member):
    """A case manager of the partner organisation (registering persons of their own)
    must not learn a birth date or spelling through these searches when master data
    of the team case is not shared with them."""
    from lotse.core.models import Membership
    from lotse.people.selectors import person_duplicate_candidates

    cm_partner = Membership.objects.create(
        user=world.partner_staff.user, organisation=world.partner, role="case_manager"
    )
    person = world.case.person
    kwargs = {
        "family_name": person.family_name,
        "given_names": person.given_names,
        "birth_date": person.birth_date,
    }
    assert person_duplicate_candidates(actor=cm_partner, **kwargs)
    world.consent.categories = ["work"]
    world.consent.save()
    assert person_duplicate_candidates(actor=cm_partner, **kwargs) == []
