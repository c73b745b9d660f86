import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from lotse.core.models import AccessLogEntry
from lotse.people.models import ResidenceStatusPeriod
from lotse.people.services import (
    benefit_period_add,
    residence_status_add,
    residence_status_correct,
)

D = dt.date


def test_new_status_closes_open_period_by_superseding(world):
    person = world.case.person
    first = ResidenceStatusPeriod.objects.get(person=person)
    new = residence_status_add(
        actor=world.case_manager,
        person=person,
        status="ausbildungsduldung",
        valid_from=D(2024, 8, 1),
    )
    first.refresh_from_db()
    assert first.valid_to is None  # never overwritten
    closed = first.superseded_by
    assert closed.valid_to == D(2024, 7, 31) and closed.status == "duldung"
    current = ResidenceStatusPeriod.objects.filter(
        person=person, superseded_by__isnull=True, is_retraction=False
    )
    assert set(current) == {closed, new}
    assert AccessLogEntry.objects.filter(person_id=person.pk, categories=["residence"]).exists()


def test_overlapping_period_is_rejected_and_nothing_written(world):
    person = world.case.person
    residence_status_add(
        actor=world.case_manager,
        person=person,
        status="ausbildungsduldung",
        valid_from=D(2024, 8, 1),
    )
    before = ResidenceStatusPeriod.objects.count()
    with pytest.raises(ValidationError) as err:
        residence_status_add(
            actor=world.case_manager,
            person=person,
            status="ae_25a",
            valid_from=D(2024, 1, 1),
            valid_to=D(2024, 12, 31),
        )
    assert "valid_from" in err.value.message_dict
    assert "überschneidet" in err.value.message_dict["valid_from"][0]
    assert ResidenceStatusPeriod.objects.count() == before


def test_correction_supersedes_and_keeps_history(world):
    old = ResidenceStatusPeriod.objects.get(person=world.case.person)
    new = residence_status_correct(
        actor=world.case_manager, entry=old, reason="Tippfehler", valid_from=D(2023, 2, 1)
    )
    assert new.supersedes == old and new.valid_from == D(2023, 2, 1)
    with pytest.raises(ValidationError):
        residence_status_correct(actor=world.case_manager, entry=old, reason="nochmal")
    with pytest.raises(ValidationError) as err:
        residence_status_correct(actor=world.case_manager, entry=new, reason=" ")
    assert "correction_reason" in err.value.message_dict


def test_unknown_code_and_inverted_dates_rejected(world):
    with pytest.raises(ValidationError) as err:
        benefit_period_add(
            actor=world.case_manager,
            person=world.case.person,
            regime="sgb99",
            valid_from=D(2024, 1, 1),
        )
    assert "regime" in err.value.message_dict
    with pytest.raises(ValidationError):
        benefit_period_add(
            actor=world.case_manager,
            person=world.case.person,
            regime="sgb2",
            valid_from=D(2024, 1, 1),
            valid_to=D(2023, 1, 1),
        )


def test_only_lead_case_workers_write_timelines(world):
    person = world.case.person
    with pytest.raises(PermissionDenied):
        residence_status_add(
            actor=world.partner_staff, person=person, status="ae_25a", valid_from=D(2025, 1, 1)
        )
    with pytest.raises(Http404):
        residence_status_add(
            actor=world.outsider, person=person, status="ae_25a", valid_from=D(2025, 1, 1)
        )
    with pytest.raises(PermissionDenied):
        residence_status_add(
            actor=world.coordinator, person=person, status="ae_25a", valid_from=D(2025, 1, 1)
        )
