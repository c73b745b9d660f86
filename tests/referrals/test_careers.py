"""Measure careers, the Django side: rules as configured by coordinators, resolving a
flag (case manager of the lead organisation only, with a note, logged)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from lotse.core.models import AccessLogEntry
from lotse.referrals.careers_services import (
    career_flag_resolve,
    career_rule_update,
    careers_rules_active,
)
from lotse.referrals.models import CareerFlag, CareerRuleSetting

pytestmark = pytest.mark.django_db


def test_defaults_without_settings_and_a_coordinators_change(world):
    rules = {r.code: r for r in careers_rules_active()}
    assert set(rules) == {
        "cycle",
        "repetition",
        "no_progression",
        "gap",
        "waiting",
        "dropout_chain",
    }
    assert rules["cycle"].min_count == 3  # type: ignore[attr-defined]
    career_rule_update(actor=world.coordinator, code="cycle", params={"min_count": 4})
    rules = {r.code: r for r in careers_rules_active()}
    assert rules["cycle"].min_count == 4  # type: ignore[attr-defined]
    assert rules["cycle"].months == 24  # type: ignore[attr-defined]  # the rest: defaults


def test_bad_parameters_are_refused_and_nothing_saved(world):
    with pytest.raises(ValidationError) as exc:
        career_rule_update(actor=world.coordinator, code="cycle", params={"min_count": 0})
    assert "params" in exc.value.message_dict
    with pytest.raises(ValidationError):
        career_rule_update(actor=world.coordinator, code="cycle", params={"nonsense": 1})
    with pytest.raises(ValidationError):
        career_rule_update(actor=world.coordinator, code="nope", params={})
    assert not CareerRuleSetting.objects.exists()


def test_only_coordinators_change_rules(world):
    for member in (world.case_manager, world.partner_staff, world.analyst):
        with pytest.raises(PermissionDenied):
            career_rule_update(actor=member, code="gap", params={"days": 60})


def _flag(world):
    return CareerFlag.objects.create(
        person=world.case.person,
        case=world.case,
        rule="dropout_chain",
        params={"n": 2},
        evidence_key="p:1,2",
        evidence={"participations": [1, 2]},
    )


def test_case_manager_resolves_with_a_note_and_it_is_logged(world):
    flag = _flag(world)
    with pytest.raises(ValidationError):
        career_flag_resolve(actor=world.case_manager, flag=flag, note=" ")
    flag = career_flag_resolve(actor=world.case_manager, flag=flag, note="Ausbildung ab 1.8.")
    assert not flag.is_open and flag.resolved_by == world.case_manager.user
    assert AccessLogEntry.objects.filter(object_type="career_flag", object_id=str(flag.pk)).exists()
    with pytest.raises(ValidationError):
        career_flag_resolve(actor=world.case_manager, flag=flag, note="again")


def test_others_cannot_resolve(world):
    flag = _flag(world)
    with pytest.raises(PermissionDenied):
        career_flag_resolve(actor=world.partner_staff, flag=flag, note="x")
    with pytest.raises(Http404):
        career_flag_resolve(actor=world.outsider, flag=flag, note="x")
    flag.refresh_from_db()
    assert flag.is_open


def test_a_stored_rule_that_no_longer_fits_falls_back_to_its_defaults(world, caplog):
    CareerRuleSetting.objects.create(code="gap", kind="gap", params={"renamed": 3})
    rules = {r.code: r for r in careers_rules_active()}
    assert rules["gap"].days == 90  # type: ignore[attr-defined]
    assert "stored settings invalid" in caplog.text
