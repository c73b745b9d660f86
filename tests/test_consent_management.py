"""Recording and withdrawing consents, break-glass access, sharing agreements."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from lotse.casework.models import FollowUp
from lotse.core.models import AccessLogEntry
from lotse.privacy.access import Basis, case_access
from lotse.privacy.models import BreakGlassAccess, Consent, SharingAgreement

TODAY = dt.date.today


def _record(client, world, **overrides):
    data = {
        "purpose": "casework",
        "categories": ["education", "work"],
        "receiving_organisations": [world.partner.pk],
        "signed_on": timezone.localdate().isoformat(),
        "valid_until": (timezone.localdate() + dt.timedelta(days=365)).isoformat(),
        "form_language": "ar",
        "interpreter_language": "ar",
    }
    data.update(overrides)
    return client.post(reverse("privacy:consents", args=[world.case.pk]), data)


def test_lead_records_a_consent_with_expiry_reminder(world, as_member):
    world.consent.delete()
    client = as_member(world.case_manager)
    assert client.get(reverse("privacy:consents", args=[world.case.pk])).status_code == 200
    r = _record(client, world)
    assert r.status_code == 302
    consent = Consent.objects.get(person=world.case.person)
    assert consent.categories == ["education", "work"] and consent.form_language == "ar"
    reminder = FollowUp.objects.get(case=world.case, owner=world.case_manager.user)
    assert reminder.due_on == consent.valid_until - dt.timedelta(days=30)
    assert set(case_access(world.partner_staff, world.case).categories) == {"education", "work"}
    assert AccessLogEntry.objects.filter(object_type="consent", action="create").exists()


def test_bad_consent_input_is_refused_at_the_field(world, as_member):
    client = as_member(world.case_manager)
    before = Consent.objects.count()
    for bad, field in (
        ({"categories": []}, "categories"),
        ({"receiving_organisations": [world.lead.pk]}, "receiving_organisations"),
        ({"signed_on": (timezone.localdate() + dt.timedelta(days=2)).isoformat()}, "signed_on"),
        ({"valid_until": "2001-01-01"}, "valid_until"),
        ({"purpose": "marketing"}, "purpose"),
    ):
        r = _record(client, world, **bad)
        assert r.status_code == 422, bad
        assert f'id="id_{field}_error"' in r.content.decode(), bad
    assert Consent.objects.count() == before


def test_only_the_lead_manages_consents(world, as_member):
    url = reverse("privacy:consents", args=[world.case.pk])
    assert as_member(world.partner_staff).get(url).status_code == 403
    assert as_member(world.outsider).get(url).status_code == 404
    assert as_member(world.coordinator).get(url).status_code == 403
    r = as_member(world.partner_staff).post(
        reverse("privacy:consent_withdraw", args=[world.case.pk, world.consent.pk])
    )
    assert r.status_code == 403
    world.consent.refresh_from_db()
    assert world.consent.withdrawn_at is None


def test_withdrawal_through_the_page(world, as_member):
    client = as_member(world.case_manager)
    r = client.post(
        reverse("privacy:consent_withdraw", args=[world.case.pk, world.consent.pk]),
        {"note": "mündlich widerrufen"},
    )
    assert r.status_code == 302
    world.consent.refresh_from_db()
    assert (
        world.consent.withdrawn_at is not None
        and world.consent.withdrawn_by == world.case_manager.user
    )
    assert not case_access(world.partner_staff, world.case).visible
    body = client.get(reverse("privacy:consents", args=[world.case.pk])).content.decode()
    assert "mündlich widerrufen" in body  # history kept
    r = client.post(reverse("privacy:consent_withdraw", args=[world.case.pk, world.consent.pk]))
    assert r.status_code == 302  # second withdrawal: a message, nothing changes


def test_break_glass_needs_a_reason_and_informs_the_lead(world, as_member):
    world.consent.categories = ["work"]
    world.consent.save()
    client = as_member(world.partner_staff)
    url = reverse("privacy:break_glass", args=[world.case.pk])
    assert client.get(url).status_code == 200
    r = client.post(url, {"reason": "kurz"})
    assert r.status_code == 422 and not BreakGlassAccess.objects.exists()
    r = client.post(url, {"reason": "Person in akuter Krise, Kontakt zur Familie nötig"})
    assert r.status_code == 302
    access = case_access(world.partner_staff, world.case)
    assert access.basis("health") == Basis.BREAK_GLASS
    assert FollowUp.objects.filter(
        owner=world.case_manager.user, title__contains="akuter Krise"
    ).exists()
    assert AccessLogEntry.objects.filter(basis="break_glass", object_type="break_glass").exists()
    # It ends by itself.
    grant = BreakGlassAccess.objects.get()
    grant.expires_at = timezone.now() - dt.timedelta(seconds=1)
    grant.save()
    assert set(case_access(world.partner_staff, world.case).categories) == {"work"}


def test_break_glass_only_for_team_members(world, as_member):
    assert (
        as_member(world.outsider)
        .post(reverse("privacy:break_glass", args=[world.case.pk]), {"reason": "x" * 30})
        .status_code
        == 404
    )
    assert (
        as_member(world.coordinator)
        .post(reverse("privacy:break_glass", args=[world.case.pk]), {"reason": "x" * 30})
        .status_code
        == 403
    )
    assert not BreakGlassAccess.objects.exists()


def test_org_admin_shares_only_own_data(world, as_member):
    client = as_member(world.org_admin)
    assert client.get(reverse("privacy:agreements")).status_code == 200
    data = {
        "name": "KI → Jobcenter: Arbeit",
        "source_organisation": world.lead.pk,
        "receiver_organisation": world.partner.pk,
        "categories": ["work"],
        "purposes": ["casework"],
        "legal_basis": "§ 69 Abs. 1 Nr. 1 SGB X",
        "valid_from": timezone.localdate().isoformat(),
    }
    r = client.post(reverse("privacy:agreement_new"), data)
    assert r.status_code == 302, r.content.decode()[:2000]
    agreement = SharingAgreement.objects.get(name="KI → Jobcenter: Arbeit")
    assert agreement.owner == world.lead
    r = client.post(
        reverse("privacy:agreement_new"), dict(data, source_organisation=world.other.pk)
    )
    assert r.status_code == 422
    r = client.post(reverse("privacy:agreement_new"), dict(data, receiver_organisation=""))
    assert r.status_code == 422
    assert SharingAgreement.objects.filter(owner=world.lead).count() == 1
    assert as_member(world.case_manager).get(reverse("privacy:agreements")).status_code == 403
