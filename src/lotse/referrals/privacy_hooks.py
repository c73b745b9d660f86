"""Referrals and participations in the privacy features (DESIGN §4, §5).

Privacy does not import this app (referrals → privacy), so ``ReferralsConfig.ready()``
registers here what the privacy features need to know of it:

* the **Art. 15 report**: the person's referrals with their steps and participations
  under the category ``participations`` (loaded in a fixed number of queries, and only
  what the requesting organisation may see), each organisation that received a sent
  referral among the recipients (Art. 15 (1) (c) GDPR), and who recorded what;
* **retention**: when the person is anonymised, the free text of referrals, their
  steps and participations and the note on a resolved measure-career flag is blanked;
  codes, dates, categories, levels and outcomes stay for statistics and the measure
  careers. The flags appear in the report beside the participations they are about.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lotse.core.models import NeedType, Organisation
from lotse.privacy import art15, retention
from lotse.privacy.access import BASIS_LABELS
from lotse.privacy.art15 import (
    ALL_CATEGORIES,
    CASE_COL,
    CATEGORIES,
    DATE,
    DATETIME,
    LINES,
    Column,
    Recipient,
    ReportData,
    RestrictScope,
    SourceAdder,
    Table,
)
from lotse.privacy.categories import Category

from .models import Participation, Referral, ReferralEvent
from .models_careers import CareerFlag

KEY = "referrals"  # the report's data.extra[KEY]


@dataclass
class ReferralData:
    referrals: list[Referral] = field(default_factory=list)
    events: list[ReferralEvent] = field(default_factory=list)
    participations: list[Participation] = field(default_factory=list)
    career_flags: list[CareerFlag] = field(default_factory=list)


# --- Art. 15 report: loading and restricting ----------------------------------------


def art15_load(person_id: int) -> ReferralData:
    """All referrals, steps and participations of the person: three queries, and one
    more for the needs when there are referrals, whatever their number."""
    return ReferralData(
        referrals=list(
            Referral.objects.filter(person_id=person_id)
            .select_related("receiver", "sender", "offer", "created_by")
            .prefetch_related(Prefetch("need_types", queryset=NeedType.objects.order_by("name")))
            .order_by("created_at", "pk")
        ),
        events=list(
            ReferralEvent.objects.filter(referral__person_id=person_id)
            .select_related("by", "by_organisation")
            .order_by("referral_id", "at", "pk")
        ),
        participations=list(
            Participation.objects.filter(person_id=person_id)
            .select_related("provider", "recorded_by", "created_by")
            .order_by("started_on", "pk")
        ),
        career_flags=list(
            CareerFlag.objects.filter(person_id=person_id)
            .select_related("resolved_by")
            .order_by("raised_at", "pk")
        ),
    )


def art15_restrict(data: ReferralData, scope: RestrictScope) -> ReferralData:
    """What the requesting organisation answers for: referrals and participations of
    the cases it sees with the category ``participations`` (the rule of every other
    category), and the referrals it received itself once sent, with their
    participation (it holds that copy). The organisations that received a referral
    from a case it leads are recipients of its data: their accesses are listed."""
    org_id = scope.organisation_id

    def shown(case_id: int) -> bool:
        return scope.allowed(case_id, Category.PARTICIPATIONS)

    referrals = [
        r
        for r in data.referrals
        if shown(r.case_id) or (r.receiver_id == org_id and r.sent_at is not None)
    ]
    ids = {r.pk for r in referrals}
    scope.recipients |= {
        r.receiver_id for r in referrals if r.sent_at is not None and r.case_id in scope.led
    }
    return ReferralData(
        referrals=referrals,
        events=[e for e in data.events if e.referral_id in ids],
        participations=[p for p in data.participations if shown(p.case_id) or p.referral_id in ids],
        career_flags=[f for f in data.career_flags if f.case_id is not None and shown(f.case_id)],
    )


def _data(report: ReportData) -> ReferralData:
    found = report.extra.get(KEY)
    return found if isinstance(found, ReferralData) else ReferralData()


# --- Art. 15 report: the tables -------------------------------------------------------


def _label(obj: Any, name: str) -> str:
    """The display label of a choice field; empty when the field is."""
    if not getattr(obj, name):
        return ""
    return str(getattr(obj, f"get_{name}_display")())


def _name(org: Organisation | None) -> str:
    return org.name if org is not None else ""


def _user(user: Any) -> str:
    return str(user) if user is not None else ""


def _ordered(categories: Any) -> list[str]:
    given = set(categories or [])
    return [c for c in ALL_CATEGORIES if c in given]


def _basis(code: str) -> str:
    return str(BASIS_LABELS.get(code, code)) if code else ""


def _snapshot(referral: Referral, side: str, key: str) -> str:
    snapshot = getattr(referral, f"{side}_snapshot") or {}
    return str(snapshot.get(key) or "") if isinstance(snapshot, dict) else ""


def _referral_row(r: Referral) -> dict[str, Any]:
    return {
        "id": r.pk,
        "case": r.case_id,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "offer": _snapshot(r, "receiver", "offer") or (r.offer.title if r.offer else ""),
        "receiver": _snapshot(r, "receiver", "organisation") or _name(r.receiver),
        "sender": _snapshot(r, "sender", "organisation") or _name(r.sender),
        "status": _label(r, "status"),
        "reason": r.reason,
        "needs": [n.name for n in r.need_types.all()],
        "shared_categories": _ordered(r.shared_categories),
        "sharing_basis": _basis(r.sharing_basis),
        "consent": r.consent_id,
        "exclusion_reasons": [str(x) for x in r.exclusion_reasons or []],
        "override_reason": r.override_reason,
        "reject_reason": _label(r, "reject_reason"),
        "waitlisted_on": r.waitlisted_on,
        "days_waited": r.days_waited,
        "decided_at": r.decided_at,
        "closed_at": r.closed_at,
        "created_by": _user(r.created_by),
    }


_REFERRAL_COLUMNS = [
    Column("id", gettext_lazy("referral no.")),
    Column(*CASE_COL),
    Column("created_at", gettext_lazy("recorded at"), DATETIME),
    Column("created_by", gettext_lazy("recorded by")),
    Column("sent_at", gettext_lazy("sent at"), DATETIME),
    Column("offer", gettext_lazy("offer")),
    Column("receiver", gettext_lazy("receiving organisation")),
    Column("sender", gettext_lazy("sending organisation")),
    Column("status", gettext_lazy("status")),
    Column("reason", gettext_lazy("reason for the referral")),
    Column("needs", gettext_lazy("needs")),
    Column("shared_categories", gettext_lazy("data categories passed on"), CATEGORIES),
    Column("sharing_basis", gettext_lazy("basis for passing them on")),
    Column("consent", gettext_lazy("consent no.")),
    Column("exclusion_reasons", gettext_lazy("why the offer excluded the person"), LINES),
    Column("override_reason", gettext_lazy("reason for referring despite the exclusion")),
    Column("reject_reason", gettext_lazy("reason for rejecting")),
    Column("waitlisted_on", gettext_lazy("on the waiting list since"), DATE),
    Column("days_waited", gettext_lazy("days waited")),
    Column("decided_at", gettext_lazy("answered at"), DATETIME),
    Column("closed_at", gettext_lazy("closed at"), DATETIME),
]

_STEP_COLUMNS = [
    Column("referral", gettext_lazy("referral no.")),
    Column("at", gettext_lazy("time"), DATETIME),
    Column("status", gettext_lazy("step")),
    Column("by", gettext_lazy("staff member")),
    Column("organisation", gettext_lazy("organisation")),
    Column("note", gettext_lazy("note")),
]

_PARTICIPATION_COLUMNS = [
    Column("id", gettext_lazy("participation no.")),
    Column(*CASE_COL),
    Column("referral", gettext_lazy("referral no.")),
    Column("offer", gettext_lazy("offer")),
    Column("provider", gettext_lazy("provider")),
    Column("category", gettext_lazy("category")),
    Column("level", gettext_lazy("level of the offer")),
    Column("started_on", gettext_lazy("started on"), DATE),
    Column("ended_on", gettext_lazy("ended on"), DATE),
    Column("attendance_percent", gettext_lazy("attendance (%)")),
    Column("attendance_note", gettext_lazy("attendance summary")),
    Column("outcome", gettext_lazy("outcome")),
    Column("abort_reason", gettext_lazy("reason for aborting")),
    Column("outcome_note", gettext_lazy("note on the outcome")),
    Column("level_reached", gettext_lazy("level reached")),
    Column("next_step", gettext_lazy("what followed")),
    Column("recorded_by", gettext_lazy("recorded by")),
    Column("created_by", gettext_lazy("entered by")),
    Column("created_at", gettext_lazy("recorded at"), DATETIME),
]


_FLAG_COLUMNS: list[Column] = [
    Column("id", gettext_lazy("no.")),
    Column(*CASE_COL),
    Column("rule", gettext_lazy("rule")),
    Column("reason", gettext_lazy("reason")),
    Column("participations", gettext_lazy("participations (no.)")),
    Column("raised_at", gettext_lazy("raised at"), DATETIME),
    Column("state", gettext_lazy("state")),
    Column("resolved_by", gettext_lazy("resolved by")),
    Column("resolution_note", gettext_lazy("note on the resolution"), LINES),
]


def _flag_row(flag: CareerFlag, rules: dict[str, Any]) -> dict[str, Any]:
    from .careers_selectors import flag_reason, rule_name
    from .careers_services import evidence_refs

    parts, _referral = evidence_refs(flag.evidence)
    if flag.resolved_at is not None:
        state = _("resolved on %(date)s") % {
            "date": art15.display_value(flag.resolved_at, DATETIME)
        }
    elif flag.cleared_at is not None:
        state = _("no longer found")
    else:
        state = _("open")
    return {
        "id": flag.pk,
        "case": flag.case_id,
        "rule": rule_name(rules.get(flag.rule), flag.rule),
        "reason": flag_reason(flag.rule, flag.evidence),
        "participations": ", ".join(str(p) for p in parts) or "–",
        "raised_at": flag.raised_at,
        "state": state,
        "resolved_by": _user(flag.resolved_by),
        "resolution_note": flag.resolution_note,
    }


def art15_tables(report: ReportData) -> list[Table]:
    """Referrals, their steps and participations, and the measure-career flags
    (category ``participations``)."""
    from .careers_selectors import rule_labels

    data = _data(report)
    rules = rule_labels()
    return [
        Table(
            "referrals",
            gettext_lazy("Referrals to offers and organisations"),
            _REFERRAL_COLUMNS,
            [_referral_row(r) for r in data.referrals],
        ),
        Table(
            "referral_steps",
            gettext_lazy("Steps of the referrals"),
            _STEP_COLUMNS,
            [
                {
                    "referral": e.referral_id,
                    "at": e.at,
                    "status": _label(e, "status"),
                    "by": _user(e.by),
                    "organisation": _name(e.by_organisation),
                    "note": e.note,
                }
                for e in data.events
            ],
        ),
        Table(
            "participations",
            gettext_lazy("Participations in offers"),
            _PARTICIPATION_COLUMNS,
            [
                {
                    "id": p.pk,
                    "case": p.case_id,
                    "referral": p.referral_id,
                    "offer": p.title,
                    "provider": _name(p.provider),
                    "category": _label(p, "category"),
                    "level": _label(p, "level"),
                    "started_on": p.started_on,
                    "ended_on": p.ended_on,
                    "attendance_percent": p.attendance_percent,
                    "attendance_note": p.attendance_note,
                    "outcome": _label(p, "outcome"),
                    "abort_reason": _label(p, "abort_reason"),
                    "outcome_note": p.outcome_note,
                    "level_reached": _label(p, "level_reached"),
                    "next_step": _label(p, "next_step"),
                    "recorded_by": _name(p.recorded_by),
                    "created_by": _user(p.created_by),
                    "created_at": p.created_at,
                }
                for p in data.participations
            ],
        ),
        Table(
            "career_flags",
            gettext_lazy("Measure-career flags (patterns found in the participations)"),
            _FLAG_COLUMNS,
            [_flag_row(f, rules) for f in data.career_flags],
        ),
    ]


def art15_recipients(report: ReportData, recipient: Callable[[Organisation], Recipient]) -> None:
    """Each organisation a referral was sent to: when, which categories, on which
    basis (Art. 15 (1) (c) GDPR: recipients of disclosures)."""
    for r in _data(report).referrals:
        if r.sent_at is None:
            continue
        recipient(r.receiver).relations.append(
            _(
                "received referral %(referral)s on %(date)s: categories %(categories)s, "
                "basis %(basis)s"
            )
            % {
                "referral": r.pk,
                "date": art15.display_value(r.sent_at, DATETIME),
                "categories": art15.display_value(_ordered(r.shared_categories), CATEGORIES),
                "basis": _basis(r.sharing_basis) or "–",
            }
        )


def art15_sources(report: ReportData, add: SourceAdder) -> None:
    data = _data(report)
    for r in data.referrals:
        add(_("referral"), f"#{r.pk}", r.case_id, r.created_at, r.created_by, r.sender)
    for p in data.participations:
        add(_("participation"), f"#{p.pk}", p.case_id, p.created_at, p.created_by, p.recorded_by)


# --- retention ----------------------------------------------------------------------


def _blank_referrals(qs: QuerySet[Any]) -> int:
    return qs.update(reason="", override_reason="", exclusion_reasons=[])


def _blank_steps(qs: QuerySet[Any]) -> int:
    return qs.update(note="")


def _blank_participations(qs: QuerySet[Any]) -> int:
    return qs.update(attendance_note="", outcome_note="")


def _blank_flags(qs: QuerySet[Any]) -> int:
    return qs.update(resolution_note="")


ANONYMISE_STEPS = (
    retention.AnonymiseStep(
        "referrals", lambda pid: Referral.objects.filter(person_id=pid), _blank_referrals
    ),
    retention.AnonymiseStep(
        "referral_steps",
        lambda pid: ReferralEvent.objects.filter(referral__person_id=pid),
        _blank_steps,
    ),
    retention.AnonymiseStep(
        "participations",
        lambda pid: Participation.objects.filter(person_id=pid),
        _blank_participations,
    ),
    # The flags keep rule, dates and the ids of the participations (statistics); the
    # case manager's note goes.
    retention.AnonymiseStep(
        "career_flags", lambda pid: CareerFlag.objects.filter(person_id=pid), _blank_flags
    ),
)


def register() -> None:
    """Called once from ReferralsConfig.ready(); registering again has no effect."""
    art15.register_data(KEY, load=art15_load, restrict=art15_restrict)
    art15.register_section_builder(Category.PARTICIPATIONS, art15_tables)
    art15.register_recipient_source(art15_recipients)
    art15.register_source_rows(art15_sources)
    from .alerts import ANONYMISE_STEP

    retention.register_anonymise_step(ANONYMISE_STEP)
    for step in ANONYMISE_STEPS:
        retention.register_anonymise_step(step)
