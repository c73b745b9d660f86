"""Field-level change history (django-auditlog): tracked models, actor, and no copies of
free text that may hold special categories."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from auditlog.context import set_actor
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from lotse.casework import services as cw
from lotse.casework.models import AssessmentItem, Case, Note
from lotse.core.models import AccessLogEntry
from lotse.people.models import Person
from lotse.people.services import person_update
from lotse.privacy import auditing
from lotse.privacy.services import consent_withdraw


def _entries(model) -> list[LogEntry]:
    return list(LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(model)))


def _dump(entry: LogEntry) -> str:
    return json.dumps(
        [entry.changes, entry.changes_text, entry.object_repr, entry.serialized_data],
        default=str,
        ensure_ascii=False,
    )


def test_the_tracked_models_are_registered():
    for label in auditing.TRACKED:
        assert auditlog.contains(apps.get_model(label)), label
    assert not auditlog.contains(Note)
    for label, fields in auditing.EXCLUDED.items():
        registered = auditlog.get_model_fields(apps.get_model(label))
        assert set(fields) <= set(registered["exclude_fields"]), label


def test_person_update_records_the_change_and_the_actor(world):
    person = world.case.person
    before = LogEntry.objects.count()
    with set_actor(world.case_manager.user):  # what AuditlogMiddleware does per request
        person_update(actor=world.case_manager, person=person, family_name="Hadad")
    entries = [e for e in _entries(Person) if e.object_pk == str(person.pk)]
    latest = max(entries, key=lambda e: e.pk)
    assert LogEntry.objects.count() > before
    assert latest.action == LogEntry.Action.UPDATE
    assert latest.changes["family_name"] == ["Haddad", "Hadad"]
    assert latest.actor_id == world.case_manager.user_id
    assert latest.additional_data == {"person_id": person.pk}
    assert latest.object_repr == f"people.Person #{person.pk}"
    # Derived and touched-on-every-save fields are not tracked.
    assert "search_text" not in latest.changes and "updated_at" not in latest.changes


def test_the_middleware_records_the_actor_and_the_request_id(world, as_member):
    client = as_member(world.case_manager)
    followup = cw.followup_create(
        actor=world.case_manager, case=world.case, title="WV", due_on=timezone.localdate()
    )
    url = reverse("casework:followup_done", args=[world.case.pk, followup.pk])
    assert client.post(url).status_code in (200, 302)
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(followup), action=LogEntry.Action.UPDATE
    ).get()
    assert entry.actor_id == world.case_manager.user_id
    assert "done_at" in entry.changes
    assert entry.remote_addr is None  # no IP addresses of staff
    logged = AccessLogEntry.objects.filter(object_type="followup", action="update").get()
    assert entry.cid and entry.cid == logged.request_id


def test_api_writes_record_the_token_user(world, client):
    """The API authenticates inside the view; the actor is still recorded."""
    from lotse.api.services import token_create

    _token, plain = token_create(membership=world.case_manager, name="test")
    followup = cw.followup_create(
        actor=world.case_manager, case=world.case, title="WV", due_on=timezone.localdate()
    )
    response = client.post(
        f"/api/v1/cases/{world.case.pk}/followups/{followup.pk}/done",
        headers={"Authorization": f"Bearer {plain}"},
        content_type="application/json",
        data="{}",
    )
    assert response.status_code == 200, response.content
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(followup), action=LogEntry.Action.UPDATE
    ).get()
    assert entry.actor_id == world.case_manager.user_id


def test_notes_are_never_tracked(world):
    note = Note.objects.create(
        case=world.case,
        author=world.case_manager.user,
        organisation=world.lead,
        text="Depression, in Behandlung",
    )
    note.text = "Depression, Behandlung beendet"
    note.save()
    Note.objects.filter(pk=note.pk).update(is_sensitive=True)
    assert _entries(Note) == []
    assert not any("Depression" in _dump(e) for e in LogEntry.objects.all())


def test_assessment_item_description_never_appears(world):
    with set_actor(world.case_manager.user):
        assessment = cw.assessment_create(
            actor=world.case_manager,
            case=world.case,
            assessed_on=timezone.localdate(),
            summary="Psychisch belastet",
            items=[{"life_domain": "health", "kind": "strength", "description": "Trauma-Therapie"}],
        )
        item = assessment.items.get()
        item = AssessmentItem.objects.select_related("assessment__case").get(pk=item.pk)
        item.description = "Trauma-Therapie abgeschlossen"
        item.status = "met"
        item.save()
    entries = _entries(AssessmentItem)
    assert entries, "assessment items are tracked (without their description)"
    assert any("status" in (e.changes or {}) for e in entries)
    for entry in LogEntry.objects.all():
        assert "Trauma" not in _dump(entry)
        assert "Psychisch" not in _dump(entry)
    for entry in entries:
        assert "description" not in (entry.changes or {})
        assert entry.additional_data == {"person_id": world.case.person_id}


def test_excluded_free_text_of_appointments_cases_and_consents(world):
    actor, case = world.case_manager, world.case
    appointment = cw.appointment_create(
        actor=actor,
        case=case,
        purpose="Beratung",
        starts_at=timezone.now() + dt.timedelta(days=1),
        outcome="Schwanger, Geburt im Mai",
        agreements="Hebamme suchen",
    )
    cw.appointment_update(actor=actor, appointment=appointment, outcome="Geburt verschoben")
    Case.objects.get(pk=case.pk)
    case.closing_note = "Verstorben"
    case.save()
    consent_withdraw(actor=actor, case=case, consent=world.consent, note="Angst vor Abschiebung")
    text = " ".join(_dump(e) for e in LogEntry.objects.all())
    for secret in ("Schwanger", "Geburt", "Hebamme", "Verstorben", "Abschiebung"):
        assert secret not in text, secret
    consent_changes = [e.changes for e in LogEntry.objects.filter(object_pk=str(world.consent.pk))]
    assert any("withdrawn_at" in (c or {}) for c in consent_changes)


def test_short_free_text_is_masked_but_the_change_is_visible(world):
    with set_actor(world.case_manager.user):
        goal = cw.plan_goal_add(
            actor=world.case_manager, case=world.case, life_domain="health", title="Psychotherapie"
        )
        goal.title = "Psychotherapie fortsetzen"
        goal.save()
    entries = [e for e in LogEntry.objects.all() if e.object_repr.startswith("casework.PlanGoal")]
    update = next(e for e in entries if e.action == LogEntry.Action.UPDATE)
    assert update.changes["title"] == [auditing.MASK, auditing.MASK]
    assert not any("Psychotherapie" in _dump(e) for e in LogEntry.objects.all())


@pytest.mark.parametrize("value", ["", "None"])
def test_mask_keeps_empty_values(value):
    assert auditing.mask_free_text(value) == value
    assert auditing.mask_free_text("Krankenhaus") == auditing.MASK


def test_deleted_rows_stay_findable_by_person(world):
    """Other spellings are replaced on each edit: their history is found by person id."""
    person = world.case.person
    with set_actor(world.case_manager.user):
        person_update(actor=world.case_manager, person=person, other_names=[("Hadad", "Muhammad")])
        person_update(actor=world.case_manager, person=person, other_names=[])
    history = list(auditing.person_change_history(person.pk))
    deleted = [e for e in history if e.object_repr.startswith("people.PersonName")]
    assert deleted and all(e.action == LogEntry.Action.DELETE for e in deleted)
    assert not auditing.person_change_history(world.foreign_case.person_id).filter(
        pk__in=[e.pk for e in deleted]
    )
