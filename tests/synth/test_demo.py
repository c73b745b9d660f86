"""`lotse demo --no-serve`: demo users per role, filled worklists, idempotent."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from lotse.casework.models import Appointment, Case, CaseTeamMember, FollowUp
from lotse.core.models import Membership, User
from lotse.core.roles import Role
from lotse.people.models import Person
from lotse.privacy.access import ALL_CATEGORIES, case_access_bulk, visible_cases
from lotse.privacy.models import Consent
from lotse.referrals.models import Participation, Referral, ReferralEvent

pytestmark = pytest.mark.django_db


def demo() -> str:
    out = StringIO()
    call_command("demo", "--no-serve", "--persons", "150", stdout=out)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    return {
        "persons": Person.objects.count(),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "cases": Case.objects.count(),
        "team": CaseTeamMember.objects.count(),
        "followups": FollowUp.objects.count(),
        "appointments": Appointment.objects.count(),
        "consents": Consent.objects.count(),
        "withdrawn": Consent.objects.filter(withdrawn_at__isnull=False).count(),
        "referrals": Referral.objects.count(),
        "referral_steps": ReferralEvent.objects.count(),
        "participations": Participation.objects.count(),
    }


@override_settings(LOTSE_DEMO_PASSWORD="demo-pw-for-tests")
def test_demo_creates_users_per_role_and_is_idempotent() -> None:
    output = demo()
    assert Person.objects.count() == 150
    for role in Role:
        user = User.objects.get(username=role.value)
        assert user.check_password("demo-pw-for-tests")
        assert Membership.objects.filter(user=user, role=role.value, is_active=True).exists()
        assert role.value in output
    multi = User.objects.get(username="multi")
    assert sorted(multi.memberships.values_list("organisation__org_type", "role")) == [
        ("jmd", "case_manager"),
        ("jobcenter", "partner_staff"),
    ]
    assert "demo-pw-for-tests" in output
    assert "http://127.0.0.1:8000/" in output

    cm = Membership.objects.get(user__username="case_manager")
    assert cm.organisation.org_type == "ki"
    open_ki = Case.objects.filter(lead_organisation=cm.organisation).exclude(phase="closed")
    assert open_ki.filter(case_manager=cm.user).count() == min(40, open_ki.count())
    today = timezone.localdate()
    assert FollowUp.objects.filter(owner=cm.user, done_at=None, due_on__lt=today).count() >= 5
    assert (
        Appointment.objects.filter(
            case__case_manager=cm.user,
            status="planned",
            starts_at__gt=timezone.now(),
            starts_at__lte=timezone.now() + dt.timedelta(days=14),
        ).count()
        >= 5
    )
    ps = Membership.objects.get(user__username="partner_staff")
    assert ps.organisation.org_type == "jobcenter"
    assert CaseTeamMember.objects.filter(user=ps.user, removed_at=None).count() >= 30
    assert Membership.objects.get(user__username="volunteer").organisation.org_type == (
        "ehrenamtsinitiative"
    )

    before = snapshot()
    again = demo()
    assert snapshot() == before
    assert "no demo data loaded" in again


def test_demo_keeps_existing_data() -> None:
    call_command(
        "synth", "--persons", "20", "--seed", "3", "--load", "--no-progress", stdout=StringIO()
    )
    demo()
    assert Person.objects.count() == 20
    assert User.objects.filter(username="case_manager").exists()


def test_demo_documents_are_synthetic_pdfs_served_by_the_checked_view(client) -> None:
    from django.urls import reverse

    from lotse.casework.models import Document
    from lotse.casework.uploads import sniff_content_type

    demo()
    cm = Membership.objects.get(user__username="case_manager")
    documents = list(Document.objects.filter(uploaded_by=cm.user))
    assert len(documents) == 3
    demo()
    assert Document.objects.filter(uploaded_by=cm.user).count() == 3  # idempotent
    client.force_login(cm.user)
    session = client.session
    session["lotse_acting_membership"] = cm.pk
    session.save()
    doc = documents[0]
    response = client.get(reverse("casework:document_download", args=[doc.case_id, doc.pk]))
    body = b"".join(response.streaming_content)
    assert response.status_code == 200 and sniff_content_type(body[:16]) == "application/pdf"
    assert b"synthetisches Beispieldokument" in body


def _partner_view(username: str) -> tuple[list[Case], dict[int, set[str]], set[int]]:
    """The partner membership's open team cases, the categories it may read of each,
    and the cases it can see at all."""
    membership = Membership.objects.select_related("organisation").get(
        user__username=username, role=Role.PARTNER_STAFF
    )
    team = list(
        Case.objects.filter(
            team__user=membership.user,
            team__organisation=membership.organisation,
            team__removed_at__isnull=True,
        )
        .exclude(phase="closed")
        .order_by("pk")
    )
    access = case_access_bulk(membership, team)
    visible = set(visible_cases(membership).values_list("pk", flat=True))
    return team, {pk: set(a.categories) for pk, a in access.items()}, visible


def test_demo_partners_see_their_team_cases_by_consent() -> None:
    demo()
    team, categories, visible = _partner_view("partner_staff")
    seen_by_partner = visible
    assert len(team) >= 30
    shown = [c for c in team if c.pk in visible]
    assert len(shown) >= 25
    assert all(bool(categories[c.pk]) == (c.pk in visible) for c in team)
    partial = [c for c in shown if categories[c.pk] < set(ALL_CATEGORIES)]
    assert partial  # the case page shows the rest as "not shared"
    narrowed = [c for c in shown if not {"benefits", "plan"} <= categories[c.pk]]
    assert narrowed  # a consent for fewer categories than the Jobcenter usually gets
    gone = [c for c in team if c.pk not in visible]
    assert len(gone) == 1
    consents = Consent.objects.filter(
        person_id=gone[0].person_id, receiving_organisations__org_type="jobcenter"
    )
    assert consents.exists() and not consents.filter(withdrawn_at__isnull=True).exists()

    team, categories, visible = _partner_view("multi")
    assert len(team) >= 10
    assert len([c for c in team if c.pk in visible]) >= 8

    before = snapshot()
    demo()
    assert snapshot() == before
    assert _partner_view("partner_staff")[2] == seen_by_partner


def test_demo_provider_gets_referrals_from_the_case_managers_cases() -> None:
    """`traeger` (partner staff of a Bildungsträger with offers) has referrals to answer
    from the demo case manager's cases, sees the persons' master data by their consent
    (one of them only that), and has participations running in its offers."""
    from lotse.offers.models import Offer
    from lotse.privacy.access import receiver_access
    from lotse.synth.demo import PROVIDER_USERNAME

    output = demo()
    assert PROVIDER_USERNAME in output
    provider = Membership.objects.select_related("organisation").get(
        user__username=PROVIDER_USERNAME
    )
    org = provider.organisation
    assert provider.role == Role.PARTNER_STAFF
    assert org.org_type in ("bildungstraeger", "vhs")
    assert Offer.objects.filter(provider=org).count() >= 5
    cm = Membership.objects.get(user__username="case_manager", role=Role.CASE_MANAGER)
    incoming = Referral.objects.filter(receiver=org, case__case_manager=cm.user)
    sent = list(incoming.filter(status="sent").select_related("case"))
    assert len(sent) >= 4
    for referral in sent:
        assert referral.sharing_basis == "consent" and referral.consent is not None
        access = receiver_access(referral.case, org, user_id=provider.user_id)
        assert access.allows("master")
    assert any(r.shared_categories == ["master"] for r in sent)
    assert incoming.filter(status="accepted").exists()
    assert incoming.filter(status="waitlisted").exists()
    running = Participation.objects.filter(
        referral__in=incoming, ended_on__isnull=True, offer__provider=org
    )
    assert running.count() >= 3
    # The case manager's cases show chains: participations and residence changes.
    cases = Case.objects.filter(case_manager=cm.user).exclude(phase="closed")
    with_chain = cases.filter(person__participations__isnull=False).distinct()
    assert with_chain.count() >= 10
    for offer in Offer.objects.filter(provider=org):
        taken = Participation.objects.filter(offer=offer, ended_on__isnull=True).count()
        assert offer.occupied == taken
        assert offer.capacity is None or taken <= offer.capacity

    before = snapshot()
    demo()
    assert snapshot() == before


def test_demo_case_manager_has_a_young_adult_with_a_duldung_needing_b1() -> None:
    from lotse.casework.models import AssessmentItem
    from lotse.people.models import ResidenceStatusPeriod
    from lotse.synth.generator import age_on

    demo()
    cm = Membership.objects.get(user__username="case_manager", role=Role.CASE_MANAGER)
    today = timezone.localdate()
    current = ResidenceStatusPeriod.objects.filter(
        valid_to__isnull=True, superseded_by__isnull=True, is_retraction=False
    )
    tolerated = set(current.filter(status__contains="duldung").values_list("person", flat=True))
    open_ki = Case.objects.filter(lead_organisation=cm.organisation).exclude(
        phase__in=["closed", "intake"]
    )
    young = [
        c
        for c in open_ki.filter(person__in=tolerated, assessments__isnull=False).distinct()
        if 18 <= age_on(c.person.birth_date, today) <= 27
    ]
    if not young:
        pytest.skip("no young adult with a Duldung in this demo's data")
    mine = [
        c
        for c in open_ki.filter(case_manager=cm.user, person__in=tolerated)
        if AssessmentItem.objects.filter(
            assessment__case=c, need_type__code="deutsch_b1", status="open"
        ).exists()
    ]
    assert mine
    # about 20: within two years, or as near as the data has one
    nearest = min(abs(age_on(c.person.birth_date, today) - 20) for c in young)
    assert min(abs(age_on(c.person.birth_date, today) - 20) for c in mine) <= max(2, nearest)


@override_settings(LOTSE_DEMO_PASSWORD="demo-pw-for-tests")
def test_demo_case_manager_gets_transition_alerts_for_27_and_the_asylblg_switch() -> None:
    """Issue #6: the demo's case manager sees follow-ups for a person turning 27 and for
    a benefit switch, made by the same run as every night; a second demo run adds none."""
    from lotse.referrals.models import TransitionAlert

    demo()
    cm = Membership.objects.get(user__username="case_manager", role=Role.CASE_MANAGER)
    mine = TransitionAlert.objects.filter(case__case_manager=cm.user)
    kinds = set(mine.values_list("kind", flat=True))
    assert {"birthday_27", "benefit_switch"} <= kinds
    due = FollowUp.objects.filter(
        owner=cm.user, done_at__isnull=True, due_on__lte=timezone.localdate() + dt.timedelta(days=7)
    )
    assert due.filter(pk__in=mine.values("followup")).exists()
    count = TransitionAlert.objects.count()
    demo()
    assert TransitionAlert.objects.count() == count
