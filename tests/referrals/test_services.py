"""The referral lifecycle through the services: who may make which step, the consent
check before sending, waiting list, places taken, bad input without partial writes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from lotse.core.models import AccessLogEntry
from lotse.offers.models import Offer
from lotse.referrals import services
from lotse.referrals.models import Participation, Referral, ReferralEvent

from ..factories import CaseFactory, OfferFactory

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def refer(world, provider, **kw):
    args = {"actor": world.case_manager, "case": world.case, "offer": provider.offer}
    args |= {"reason": "Braucht Deutsch B1 für die Ausbildung."} | kw
    return services.referral_create(**args)


def test_full_path_sender_to_provider_and_back(world, provider):
    r = refer(world, provider)
    assert r.status == "proposed" and r.receiver == provider.org and r.sent_at is None
    r = services.referral_send(actor=world.case_manager, referral=r)
    assert r.status == "sent"
    assert r.shared_categories == ["education", "master"]
    assert r.sharing_basis == "consent" and r.consent_id == provider.consent.pk
    assert r.sender_snapshot["organisation"] == "KI Lotsenstadt"
    assert r.receiver_snapshot["offer"] == "Deutsch B1 am Vormittag"
    disclosed = AccessLogEntry.objects.get(action="disclose", object_id=str(r.pk))
    assert disclosed.person_id == world.case.person_id and disclosed.purpose == "referral"
    assert sorted(disclosed.categories) == ["education", "master"]

    r = services.referral_accept(actor=provider.staff, referral=r)
    assert r.status == "accepted" and r.decided_at is not None
    p = services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    assert Offer.objects.get(pk=provider.offer.pk).occupied == 1
    assert p.category == "sprachkurs" and p.title == "Deutsch B1 am Vormittag"
    p = services.participation_end(
        actor=provider.colleague,
        participation=p,
        ended_on=TODAY(),
        outcome="completed_certificate",
        level_reached="B1",
        attendance_percent=92,
    )
    r.refresh_from_db()
    assert r.status == "completed" and r.closed_at is not None
    assert Offer.objects.get(pk=provider.offer.pk).occupied == 0
    steps = list(ReferralEvent.objects.filter(referral=r).values_list("status", flat=True))
    assert steps == ["proposed", "sent", "accepted", "started", "completed"]


def test_no_consent_for_referral_nothing_sent(world, provider):
    provider.consent.withdrawn_at = timezone.now()
    provider.consent.save()
    r = refer(world, provider)
    with pytest.raises(ValidationError, match="no valid consent"):
        services.referral_send(actor=world.case_manager, referral=r)
    r.refresh_from_db()
    assert r.status == "proposed" and r.sent_at is None and r.shared_categories == []
    assert not AccessLogEntry.objects.filter(action="disclose").exists()


def test_casework_consent_is_not_a_referral_consent(world, provider):
    """The Jobcenter's casework consent does not let a referral go to it."""
    r = services.referral_create(
        actor=world.case_manager, case=world.case, receiver=world.partner, reason="Beratung"
    )
    with pytest.raises(ValidationError):
        services.referral_send(actor=world.case_manager, referral=r)


def test_receiver_only_and_only_after_sending(world, provider):
    r = refer(world, provider)
    with pytest.raises(Http404):  # not sent yet: does not exist for the provider
        services.referral_accept(actor=provider.staff, referral=r)
    services.referral_send(actor=world.case_manager, referral=r)
    # The Jobcenter sees the case (team) but is not the receiver; the lead neither.
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=world.partner_staff, referral=r)
    with pytest.raises(PermissionDenied):
        services.referral_accept(actor=world.case_manager, referral=r)
    with pytest.raises(Http404):
        services.referral_accept(actor=world.outsider, referral=r)
    with pytest.raises(PermissionDenied):
        services.referral_send(actor=world.partner_staff, referral=r)


def test_duplicate_referral_refused(world, provider):
    refer(world, provider)
    with pytest.raises(ValidationError) as exc:
        refer(world, provider)
    assert "already an open referral" in str(exc.value.message_dict["offer"])
    assert Referral.objects.count() == 1


def test_after_rejection_a_new_referral_is_possible(world, provider):
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    with pytest.raises(ValidationError):
        services.referral_reject(actor=provider.staff, referral=r, reject_reason="")
    services.referral_reject(actor=provider.staff, referral=r, reject_reason="no_place")
    assert refer(world, provider).status == "proposed"


def test_excluded_offer_needs_override_reason(world, provider):
    """The person (Duldung) is excluded from an integration course with a fixed
    status list; only an override with a reason lets the referral through, logged in
    its first step."""
    course = OfferFactory(provider=provider.org, statuses=["ae_25_2_gfk"], title="Nur GFK")
    with pytest.raises(ValidationError) as exc:
        refer(world, provider, offer=course)
    assert "excluded" in str(exc.value.message_dict["override_reason"])
    assert not Referral.objects.exists()
    r = refer(world, provider, offer=course, override_reason="Träger prüft Einzelfall.")
    assert r.exclusion_reasons and r.override_reason == "Träger prüft Einzelfall."
    assert "Träger prüft Einzelfall." in r.events.get().note


def test_full_offer_goes_to_waiting_list_and_days_waited_are_kept(world, provider):
    Offer.objects.filter(pk=provider.offer.pk).update(capacity=1, occupied=1)
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    r = services.referral_accept(actor=provider.staff, referral=r)
    assert r.status == "waitlisted" and r.waitlisted_on == TODAY()
    with pytest.raises(ValidationError) as exc:
        services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    assert "no free place" in str(exc.value)
    assert not Participation.objects.exists()
    Referral.objects.filter(pk=r.pk).update(waitlisted_on=TODAY() - dt.timedelta(days=17))
    Offer.objects.filter(pk=provider.offer.pk).update(occupied=0)
    r.refresh_from_db()
    services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    r.refresh_from_db()
    assert r.status == "started" and r.days_waited == 17


def test_capacity_below_participants_refused(world, provider):
    from lotse.offers.services import offer_update

    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    services.referral_accept(actor=provider.staff, referral=r)
    services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    Offer.objects.filter(pk=provider.offer.pk).update(occupied=2)
    offer = Offer.objects.get(pk=provider.offer.pk)
    with pytest.raises(ValidationError) as exc:
        offer_update(actor=provider.staff, offer=offer, capacity=1)
    assert "cannot be lower" in str(exc.value.message_dict["capacity"])
    assert Offer.objects.get(pk=provider.offer.pk).capacity == 2


def test_end_before_start_and_bad_outcome(world, provider):
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    services.referral_accept(actor=provider.staff, referral=r)
    p = services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    with pytest.raises(ValidationError) as exc:
        services.participation_end(
            actor=provider.staff,
            participation=p,
            ended_on=TODAY() - dt.timedelta(days=3),
            outcome="aborted",
        )
    errors = exc.value.message_dict
    assert "before it started" in errors["ended_on"][0]
    assert "abort_reason" in errors
    p.refresh_from_db()
    assert p.ended_on is None and Offer.objects.get(pk=provider.offer.pk).occupied == 1


def test_aborted_participation_aborts_referral(world, provider):
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    services.referral_accept(actor=provider.staff, referral=r)
    p = services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    services.participation_end(
        actor=world.case_manager,  # the lead may record the end too
        participation=p,
        ended_on=TODAY(),
        outcome="aborted",
        abort_reason="work",
    )
    r.refresh_from_db()
    assert r.status == "aborted"


def test_withdraw_only_before_start(world, provider):
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    services.referral_accept(actor=provider.staff, referral=r)
    services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    with pytest.raises(ValidationError):
        services.referral_withdraw(actor=world.case_manager, referral=r)


def test_earlier_participation_recorded_by_lead(world, provider):
    p = services.participation_record(
        actor=world.case_manager,
        case=world.case,
        title="Integrationskurs VHS",
        category="integrationskurs",
        level="A2",
        started_on=dt.date(2024, 3, 1),
        ended_on=dt.date(2024, 11, 30),
        outcome="completed",
        level_reached="A2",
    )
    assert p.referral is None and p.recorded_by == world.lead
    with pytest.raises(PermissionDenied):
        services.participation_record(
            actor=world.partner_staff,
            case=world.case,
            title="x",
            category="sprachkurs",
            started_on=dt.date(2024, 3, 1),
        )
    other = CaseFactory(lead_organisation=world.other)
    with pytest.raises(Http404):
        services.participation_record(
            actor=world.case_manager,
            case=other,
            title="x",
            category="sprachkurs",
            started_on=dt.date(2024, 3, 1),
        )


def test_start_of_a_referral_to_an_organisation_names_the_category(world, provider):
    r = services.referral_create(
        actor=world.case_manager,
        case=world.case,
        receiver=provider.org,
        reason="Berufsorientierung",
        send=True,
    )
    services.referral_accept(actor=provider.staff, referral=r)
    with pytest.raises(ValidationError) as exc:
        services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    assert "category" in exc.value.message_dict
    assert not Participation.objects.exists()
    p = services.participation_start(
        actor=provider.staff,
        referral=r,
        started_on=TODAY(),
        category="berufsorientierung",
        title="Werkstattwochen",
    )
    assert (p.title, p.category, p.offer) == ("Werkstattwochen", "berufsorientierung", None)


def test_end_records_what_followed(world, provider):
    r = services.referral_send(actor=world.case_manager, referral=refer(world, provider))
    services.referral_accept(actor=provider.staff, referral=r)
    p = services.participation_start(actor=provider.staff, referral=r, started_on=TODAY())
    with pytest.raises(ValidationError) as exc:
        services.participation_end(
            actor=provider.staff,
            participation=p,
            ended_on=TODAY(),
            outcome="completed",
            next_step="holiday",
        )
    assert "next_step" in exc.value.message_dict
    p = services.participation_end(
        actor=provider.staff,
        participation=p,
        ended_on=TODAY(),
        outcome="completed_certificate",
        level_reached="B1",
        next_step="apprenticeship",
    )
    p.refresh_from_db()
    assert p.next_step == "apprenticeship"
    with pytest.raises(ValidationError) as exc:  # a running one has nothing after it yet
        services.participation_record(
            actor=world.case_manager,
            case=world.case,
            title="Kurs",
            category="sprachkurs",
            started_on=dt.date(2024, 1, 1),
            next_step="employment",
        )
    assert "next_step" in exc.value.message_dict
