"""Measure careers (issue #6), the Django side: the rules as configured, resolving the
scan's flags. The detection itself is pure (careers_rules.py, careers_scan.py)."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from lotse.casework.models import Case
from lotse.core.models import AccessAction, Membership
from lotse.core.roles import Perm
from lotse.core.services import access_log_record
from lotse.privacy.access import require_case
from lotse.privacy.categories import Category

from .careers_rules import Rule, default_rules, rule_from_dict, scan_person
from .careers_scan import load_frames, load_person, scan
from .models_careers import CareerFlag, CareerRuleSetting

logger = logging.getLogger(__name__)


def careers_rules_active() -> list[Rule]:
    """The rules as configured: each kind's defaults, overridden by its settings row."""
    rows = {r.code: r for r in CareerRuleSetting.objects.all()}
    rules: list[Rule] = []
    for default in default_rules():
        row = rows.get(default.code)
        if row is None:
            rules.append(default)
            continue
        try:
            rule = rule_from_dict(
                {
                    "kind": row.kind or default.kind,
                    "code": row.code,
                    "name": row.name or None,
                    "explanation": row.explanation or None,
                    "enabled": row.enabled,
                    "params": row.params,
                }
            )
        except (ValueError, TypeError):
            # Saved rows are validated; one that no longer fits (a parameter renamed in
            # an update) must not stop every casework write that rescans a person.
            logger.exception(
                "measure-career rule %r: stored settings invalid, defaults used", row.code
            )
            rule = default
        rules.append(rule)
    return rules


@transaction.atomic
def career_rule_update(
    *,
    actor: Membership,
    code: str,
    params: dict[str, Any],
    enabled: bool = True,
    name: str = "",
    explanation: str = "",
) -> CareerRuleSetting:
    """A coordinator changes a rule's parameters (validated by the rule kind; the
    message names what is wrong, nothing is saved)."""
    if not actor.has_perm(Perm.CAREER_RULES):  # the coordinators of the alliance
        raise PermissionDenied
    kinds = {r.code: r.kind for r in default_rules()}
    if code not in kinds:
        raise ValidationError({"code": [_("Unknown rule.")]})
    try:
        rule_from_dict(
            {
                "kind": kinds[code],
                "code": code,
                "name": name or None,
                "explanation": explanation or None,
                "enabled": enabled,
                "params": params,
            }
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError({"params": [str(exc)]}) from exc
    row, _created = CareerRuleSetting.objects.update_or_create(
        code=code,
        defaults={
            "kind": kinds[code],
            "params": params,
            "enabled": enabled,
            "name": name,
            "explanation": explanation,
            "updated_by": actor.user,
        },
    )
    return row


@transaction.atomic
def career_flag_resolve(*, actor: Membership, flag: CareerFlag, note: str) -> CareerFlag:
    """The case manager (lead organisation) resolves a flag with a note; it recurs only
    on new evidence (the unique evidence key)."""
    flag = CareerFlag.objects.select_for_update(of=("self",)).select_related("case").get(pk=flag.pk)
    if flag.case is None:
        raise PermissionDenied
    basis = require_case(actor, flag.case, Perm.CASE_EDIT)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": [_("Say how the flag was dealt with.")]})
    if flag.resolved_at is not None:
        raise ValidationError({"note": [_("This flag has already been resolved.")]})
    flag.resolved_at = timezone.now()
    flag.resolved_by = actor.user
    flag.resolution_note = note
    flag.save(update_fields=["resolved_at", "resolved_by", "resolution_note"])
    access_log_record(
        actor=actor,
        action=AccessAction.UPDATE,
        person_ids=[flag.person_id],
        categories=[Category.PARTICIPATIONS],
        basis=basis,
        object_type="career_flag",
        object_id=flag.pk,
    )
    return flag


# --- storing the scan's flags -------------------------------------------------------------

# A flag row as the scan gives it: person_id, rule, params (JSON), evidence_key, evidence (JSON).
FlagRow = tuple[int, str, str, str, str]


@dataclass
class StoreResult:
    raised: int = 0  # new flags
    refreshed: int = 0  # open flags whose evidence or case changed (e.g. a gap grew)
    reopened: int = 0  # cleared flags found again
    cleared: int = 0  # open flags the scan no longer finds
    unchanged: int = 0

    def summary(self) -> str:
        return (
            f"{self.raised} raised, {self.refreshed} updated, {self.reopened} reopened, "
            f"{self.cleared} no longer found, {self.unchanged} unchanged"
        )


def evidence_refs(evidence: Mapping[str, Any]) -> tuple[list[int], int | None]:
    """The participations and the referral a flag's evidence names (for the counts by
    provider and category, and for the time line)."""
    ids: list[int] = [p["id"] for p in evidence.get("participations", ())]
    ids += [evidence[k]["id"] for k in ("before", "after") if evidence.get(k)]
    return sorted(set(ids)), evidence.get("referral_id")


def _open_cases(person_ids: Collection[int] | None) -> dict[int, int]:
    """person → the case whose case manager works on the person's flags: the most
    recently opened open case (a person may have one per lead organisation)."""
    qs = Case.objects.filter(closed_on__isnull=True)
    if person_ids is not None:
        qs = qs.filter(person_id__in=list(person_ids))
    latest: dict[int, int] = {}
    for person_id, case_id in qs.order_by("person_id", "opened_on", "id").values_list(
        "person_id", "id"
    ):
        latest[person_id] = case_id  # ordered: the last one wins
    return latest


def _existing(person_ids: Collection[int] | None) -> dict[tuple[int, str, str], CareerFlag]:
    qs = CareerFlag.objects.only(
        "id", "person_id", "case_id", "rule", "evidence_key", "params", "evidence",
        "resolved_at", "cleared_at", "referral_id",
    )  # fmt: skip
    if person_ids is not None:
        qs = qs.filter(person_id__in=list(person_ids))
    return {(f.person_id, f.rule, f.evidence_key): f for f in qs}


@transaction.atomic
def careers_store(
    rows: Iterable[FlagRow],
    *,
    person_ids: Collection[int] | None = None,
    now: dt.datetime | None = None,
) -> StoreResult:
    """Store a scan's flags: new ones are raised (on the person's current open case),
    open ones get the latest evidence, open ones the scan no longer finds are cleared.
    ``person_ids``: the persons the scan covered (``None``: everybody). Resolved flags
    stay as the case manager left them: the same evidence never raises them again."""
    now = now or timezone.now()
    found: dict[tuple[int, str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
    for person_id, rule, params_json, evidence_key, evidence_json in rows:
        found[(int(person_id), rule, evidence_key)] = (
            json.loads(params_json),
            json.loads(evidence_json),
        )
    existing = _existing(person_ids)
    cases = _open_cases(
        None if person_ids is None else {pid for pid, _r, _k in found} | set(person_ids)
    )
    result = StoreResult()
    new: list[CareerFlag] = []
    changed: list[CareerFlag] = []
    relink: dict[tuple[int, str, str], list[int]] = {}
    for key, (params, evidence) in found.items():
        parts, referral_id = evidence_refs(evidence)
        flag = existing.get(key)
        if flag is None:
            new.append(
                CareerFlag(
                    person_id=key[0],
                    case_id=cases.get(key[0]),
                    rule=key[1],
                    evidence_key=key[2],
                    params=params,
                    evidence=evidence,
                    referral_id=referral_id,
                )
            )
            relink[key] = parts
            continue
        if flag.resolved_at is not None:
            result.unchanged += 1
            continue
        case_id = cases.get(key[0], flag.case_id)
        if flag.cleared_at is None and (flag.evidence, flag.params, flag.case_id) == (
            evidence,
            params,
            case_id,
        ):
            result.unchanged += 1
            continue
        if flag.cleared_at is not None:
            result.reopened += 1
        else:
            result.refreshed += 1
        flag.evidence, flag.params, flag.case_id = evidence, params, case_id
        flag.referral_id, flag.cleared_at = referral_id, None
        changed.append(flag)
        relink[key] = parts
    # Conflicts: a concurrent update of the same person raised the same flag first.
    CareerFlag.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    result.raised = len(new)
    CareerFlag.objects.bulk_update(
        changed, ["evidence", "params", "case_id", "referral_id", "cleared_at"], batch_size=500
    )
    gone = [
        f.pk
        for key, f in existing.items()
        if key not in found and f.resolved_at is None and f.cleared_at is None
    ]
    for start in range(0, len(gone), 500):
        CareerFlag.objects.filter(pk__in=gone[start : start + 500]).update(cleared_at=now)
    result.cleared = len(gone)
    if relink:
        _link(relink, person_ids)
    return result


def _link(
    relink: Mapping[tuple[int, str, str], list[int]], person_ids: Collection[int] | None
) -> None:
    """The flag ↔ participation rows of new and changed flags, written anew."""
    qs = CareerFlag.objects.all()
    if person_ids is not None:
        qs = qs.filter(person_id__in=sorted({k[0] for k in relink}))
    ids = {
        (pid, rule, key): pk
        for pk, pid, rule, key in qs.values_list("id", "person_id", "rule", "evidence_key")
    }
    through = CareerFlag.participations.through
    flag_ids = [ids[k] for k in relink if k in ids]
    for start in range(0, len(flag_ids), 500):
        through.objects.filter(careerflag_id__in=flag_ids[start : start + 500]).delete()
    through.objects.bulk_create(
        [
            through(careerflag_id=ids[k], participation_id=pid)
            for k, parts in relink.items()
            if k in ids
            for pid in parts
        ],
        batch_size=1000,
        ignore_conflicts=True,
    )


def careers_person_update(person_id: int, *, today: dt.date | None = None) -> StoreResult:
    """The incremental scan: one person's flags after a participation, referral, plan
    step or case of theirs changed (called by the services that change them, in their
    transaction)."""
    today = today or timezone.localdate()
    flags = scan_person(load_person(person_id), careers_rules_active(), today)
    return careers_store(flags, person_ids=[person_id])


SCAN_STAGES = ("load", "scan", "store")


def careers_scan_all(
    *,
    today: dt.date | None = None,
    rules: Sequence[Rule] | None = None,
    store: bool = True,
    stage: Callable[[str], object] | None = None,
) -> tuple[pl.DataFrame, StoreResult | None]:
    """The full scan over every person (set-based, ``careers_scan.scan``) with the
    active rules (or ``rules``, e.g. to try parameters); with ``store`` the flags are
    stored as by :func:`careers_store`. ``stage`` hears each of ``SCAN_STAGES`` as it
    begins (a progress bar)."""
    today = today or timezone.localdate()
    rules = careers_rules_active() if rules is None else rules
    if stage:
        stage("load")
    frames = load_frames()
    if stage:
        stage("scan")
    frame = scan(frames, rules, today)
    if not store:
        return frame, None
    if stage:
        stage("store")
    return frame, careers_store(frame.iter_rows(), person_ids=None)
