"""Writes of the offer catalogue: who may write which provider's offers, the rules with
a message per field, the search text, and that nothing is written on an error."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lotse.core.models import NeedType
from lotse.core.roles import ROLE_PERMISSIONS, Perm
from lotse.offers import services
from lotse.offers.models import Offer

from ..factories import OfferFactory
from .conftest import ROLES, membership

TODAY = timezone.localdate


def _role(role: str) -> str:
    return {"partner_colleague": "partner_staff", "outsider": "case_manager"}.get(role, role)


def _may_edit_own(role: str) -> bool:
    perms = ROLE_PERMISSIONS[_role(role)]
    return Perm.OFFER_EDIT in perms or Perm.OFFER_EDIT_ALL in perms


def _may_edit_all(role: str) -> bool:
    return Perm.OFFER_EDIT_ALL in ROLE_PERMISSIONS[_role(role)]


# --- permissions ----------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_create_for_the_own_organisation_needs_offer_edit(world, offer_values, role):
    actor = membership(world, role)
    if _may_edit_own(role):
        offer = services.offer_create(actor=actor, **offer_values)
        assert offer.provider == actor.organisation
        assert offer.updated_by == actor.user
    else:
        with pytest.raises(PermissionDenied):
            services.offer_create(actor=actor, **offer_values)
        assert not Offer.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_create_for_another_provider_only_with_edit_all(world, offer_values, role):
    actor = membership(world, role)
    other = world.other if actor.organisation != world.other else world.lead
    if _may_edit_all(role):
        assert services.offer_create(actor=actor, provider=other, **offer_values).provider == other
    else:
        with pytest.raises(PermissionDenied):
            services.offer_create(actor=actor, provider=other, **offer_values)
        assert not Offer.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_update_and_deactivate_an_offer_of_the_lead_agency(world, role):
    actor = membership(world, role)
    offer = OfferFactory(provider=world.lead, title="Alt")
    allowed = _may_edit_all(role) or (_may_edit_own(role) and actor.organisation == world.lead)
    if allowed:
        services.offer_update(actor=actor, offer=offer, title="Neu")
        services.offer_deactivate(actor=actor, offer=offer)
        offer.refresh_from_db()
        assert (offer.title, offer.is_active, offer.updated_by) == ("Neu", False, actor.user)
        services.offer_reactivate(actor=actor, offer=offer)
        offer.refresh_from_db()
        assert offer.is_active
    else:
        with pytest.raises(PermissionDenied):
            services.offer_update(actor=actor, offer=offer, title="Neu")
        with pytest.raises(PermissionDenied):
            services.offer_deactivate(actor=actor, offer=offer)
        offer.refresh_from_db()
        assert (offer.title, offer.is_active) == ("Alt", True)


def test_partner_staff_maintain_their_own_organisations_offers(world):
    offer = OfferFactory(provider=world.partner)
    services.offer_update(actor=world.partner_colleague, offer=offer, schedule="Mo–Fr 9–12")
    offer.refresh_from_db()
    assert offer.schedule == "Mo–Fr 9–12"


def test_an_inactive_membership_may_not_write(world, offer_values):
    world.coordinator.is_active = False
    world.coordinator.save()
    with pytest.raises(PermissionDenied):
        services.offer_create(actor=world.coordinator, **offer_values)


def test_moving_an_offer_needs_the_right_for_both_providers(world):
    offer = OfferFactory(provider=world.lead)
    with pytest.raises(PermissionDenied):
        services.offer_update(actor=world.team_lead, offer=offer, provider=world.partner)
    offer.refresh_from_db()
    assert offer.provider == world.lead
    services.offer_update(actor=world.coordinator, offer=offer, provider=world.partner)
    offer.refresh_from_db()
    assert offer.provider == world.partner


def test_the_stored_provider_decides_not_unsaved_changes(world):
    """An instance changed in memory (e.g. by a form) cannot smuggle in another provider."""
    offer = OfferFactory(provider=world.partner)
    offer.provider = world.lead  # the team lead's own organisation, not saved
    with pytest.raises(PermissionDenied):
        services.offer_update(actor=world.team_lead, offer=offer, title="Übernommen")
    offer = OfferFactory(provider=world.lead)
    offer.provider = world.partner
    services.offer_update(actor=world.team_lead, offer=offer, title="Geändert")
    offer.refresh_from_db()
    assert (offer.provider, offer.title) == (world.lead, "Geändert")


def test_fields_outside_the_form_are_refused(world, offer_values):
    with pytest.raises(TypeError):
        services.offer_create(actor=world.coordinator, occupied=5, **offer_values)
    with pytest.raises(TypeError):
        services.offer_create(actor=world.coordinator, search_text="x", **offer_values)


# --- validation: a message at the field, nothing written --------------------------------


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return exc.value.message_dict


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"ends_on": dt.date(2020, 1, 1), "starts_on": dt.date(2020, 2, 1)}, "ends_on"),
        ({"age_min": 25, "age_max": 18}, "age_max"),
        ({"review_due": dt.date(2020, 1, 1)}, "review_due"),
        ({"statuses": ["duldung", "tourist"]}, "statuses"),
        ({"languages": ["de", "klingon"]}, "languages"),
        ({"title": ""}, "title"),
        ({"category": "zirkus"}, "category"),
        ({"age_max": 120}, "age_max"),
        ({"capacity": 0}, "capacity"),
        ({"contact_email": "kein-mail"}, "contact_email"),
    ],
)
def test_create_rejects_bad_values_at_the_field(world, offer_values, changes, field):
    with pytest.raises(ValidationError) as exc:
        services.offer_create(actor=world.coordinator, **{**offer_values, **changes})
    errors = _errors(exc)
    assert list(errors) == [field], errors
    assert not Offer.objects.exists()


def test_messages_name_the_problem(world, offer_values):
    with pytest.raises(ValidationError) as exc:
        services.offer_create(
            actor=world.coordinator,
            **{
                **offer_values,
                "starts_on": dt.date(2030, 2, 1),
                "ends_on": dt.date(2030, 1, 1),
                "age_min": 30,
                "age_max": 20,
                "review_due": TODAY() - dt.timedelta(days=1),
                "statuses": ["tourist"],
                "languages": ["xx"],
            },
        )
    errors = _errors(exc)
    assert errors["ends_on"] == ["The offer cannot end before it starts."]
    assert errors["age_max"] == ["The maximum age cannot be lower than the minimum age."]
    assert errors["review_due"] == ["The review date cannot lie in the past."]
    assert errors["statuses"] == ["Unknown residence status: tourist."]
    assert errors["languages"] == ["Unknown language: xx."]


def test_capacity_cannot_fall_below_the_participants(world):
    offer = OfferFactory(provider=world.lead, capacity=12, occupied=10)
    with pytest.raises(ValidationError) as exc:
        services.offer_update(actor=world.coordinator, offer=offer, capacity=8, title="Neu")
    assert list(_errors(exc)) == ["capacity"]
    assert "10 participants" in _errors(exc)["capacity"][0]
    offer.refresh_from_db()
    assert (offer.capacity, offer.title) == (12, offer.title)
    assert Offer.objects.get(pk=offer.pk).title != "Neu"
    services.offer_update(actor=world.coordinator, offer=offer, capacity=10)
    offer.refresh_from_db()
    assert offer.capacity == 10 and offer.free_places == 0


def test_an_outdated_offer_can_be_corrected_without_a_new_review_date(world):
    offer = OfferFactory(provider=world.lead, review_due=TODAY() - dt.timedelta(days=30))
    services.offer_update(actor=world.coordinator, offer=offer, contact_phone="0211 123")
    with pytest.raises(ValidationError) as exc:
        services.offer_update(
            actor=world.coordinator, offer=offer, review_due=TODAY() - dt.timedelta(days=1)
        )
    assert list(_errors(exc)) == ["review_due"]
    services.offer_update(
        actor=world.coordinator, offer=offer, review_due=TODAY() + dt.timedelta(days=365)
    )
    offer.refresh_from_db()
    assert not offer.is_outdated


def test_an_update_error_writes_nothing(world):
    needs = list(NeedType.objects.filter(code__in=["deutsch_b1", "deutsch_b2"]))
    offer = OfferFactory(provider=world.lead, title="Vorher", need_types=needs[:1])
    with pytest.raises(ValidationError):
        services.offer_update(
            actor=world.coordinator,
            offer=offer,
            title="Nachher",
            need_types=needs,
            age_min=30,
            age_max=20,
        )
    stored = Offer.objects.get(pk=offer.pk)
    assert stored.title == "Vorher"
    assert list(stored.need_types.all()) == needs[:1]


def test_a_failure_after_saving_rolls_everything_back(world, offer_values, monkeypatch):
    """The services are atomic: the row and its needs go together or not at all."""

    def broken(*args, **kwargs):
        raise RuntimeError("search index unavailable")

    monkeypatch.setattr(services, "offer_search_text", broken)
    need = NeedType.objects.get(code="deutsch_b1")
    with pytest.raises(RuntimeError):
        services.offer_create(actor=world.coordinator, need_types=[need], **offer_values)
    assert not Offer.objects.exists()
    assert not Offer.need_types.through.objects.exists()


def test_codes_are_kept_in_list_order_without_repeats(world, offer_values):
    offer = services.offer_create(
        actor=world.coordinator,
        **{
            **offer_values,
            "statuses": ["duldung", "gestattung", "duldung"],
            "languages": ["uk", "de", "uk"],
        },
    )
    assert offer.statuses == ["gestattung", "duldung"]
    assert offer.languages == ["de", "uk"]


# --- search text, needs, history ----------------------------------------------------------


def test_search_text_covers_needs_and_follows_changes(world, offer_values):
    b1 = NeedType.objects.get(code="deutsch_b1")
    orientation = NeedType.objects.get(code="berufsorientierung")
    offer = services.offer_create(actor=world.coordinator, need_types=[b1], **offer_values)
    offer.refresh_from_db()
    assert "deutsch b" in offer.search_text and "ki lotsenstadt" in offer.search_text
    assert list(offer.need_types.all()) == [b1]
    services.offer_update(
        actor=world.coordinator, offer=offer, need_types=[orientation], title="Café Beruf"
    )
    offer.refresh_from_db()
    assert "berufsorientierung" in offer.search_text and "cafe beruf" in offer.search_text
    assert "deutsch b" not in offer.search_text
    # Needs stay as they are when not given.
    services.offer_update(actor=world.coordinator, offer=offer, schedule="abends")
    assert list(offer.need_types.all()) == [orientation]


def test_changes_are_in_the_history_with_the_actor(world, offer_values):
    with set_actor(world.coordinator.user):
        offer = services.offer_create(actor=world.coordinator, **offer_values)
        services.offer_update(actor=world.coordinator, offer=offer, capacity=25)
        services.offer_deactivate(actor=world.coordinator, offer=offer)
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Offer), object_pk=str(offer.pk)
    ).order_by("pk")
    actions = [e.action for e in entries]
    assert actions == [LogEntry.Action.CREATE, LogEntry.Action.UPDATE, LogEntry.Action.UPDATE]
    assert entries[1].changes["capacity"] == ["20", "25"]
    assert entries[2].changes["is_active"] == ["True", "False"]
    assert all(e.actor_id == world.coordinator.user_id for e in entries)
    assert all("search_text" not in e.changes for e in entries)
