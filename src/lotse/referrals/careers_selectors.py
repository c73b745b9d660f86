"""Reads of measure-career flags (issue #6).

* Case managers see the open flags of the open cases they may read participations
  of (``career_flag_list``; by default the cases they manage) and one flag with its
  reason and evidence time line (``career_flag_get``). A flag lives on one case (the
  person's most recently opened open case when raised): out of scope it does not
  exist (404); in scope without participations shared it is refused (403).
  Participations the evidence names that were recorded on another organisation's
  case not shared with the reader are counted, never shown. Every read is logged.
* Coordinators and analysts see counts only (``career_flag_counts``): persons with an
  open flag (and with a flag resolved in the last 12 months) by rule, provider, offer
  category and district, set-based in SQL and polars, published through the
  disclosure control (``core.disclosure``: counts below k withheld; the counts do not
  add up — a person can have several flags — so no totals and no secondary
  suppression are needed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.db.models import Case as SqlCase
from django.db.models import Q, QuerySet, Value, When
from django.http import Http404
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lotse.casework.models import Case
from lotse.casework.selectors import case_get, log_rows
from lotse.core.disclosure import Policy, current_policy, protect
from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.offers.codes import Level, OfferCategory
from lotse.privacy.access import (
    CaseAccess,
    case_access,
    case_access_bulk,
    category_q,
    log_person_read,
    visible_cases,
)
from lotse.privacy.categories import Category

from .careers_forms import param_label, param_value
from .careers_rules import Rule
from .careers_services import careers_rules_active, evidence_refs
from .codes import NextStep, Outcome, ReferralStatus
from .models import Participation, Referral
from .models_careers import CareerFlag
from .selectors import participation_cases

OPEN = Q(resolved_at__isnull=True, cleared_at__isnull=True)


# --- wording ------------------------------------------------------------------------


def rule_labels() -> dict[str, Rule]:
    return {r.code: r for r in careers_rules_active()}


def rule_name(rule: Rule | None, code: str) -> str:
    return _(rule.name) if rule is not None else code


def rule_explanation(rule: Rule | None, params: dict[str, Any]) -> str:
    """The rule's explanation with the parameters the flag was raised with."""
    if rule is None:
        return ""
    try:
        used = rule.with_params(**params)
    except (TypeError, ValueError):  # parameters of an older rule version
        used = rule
    return used.explain(_(rule.explanation), display=param_value)


def _day(value: str | None) -> str:
    if not value:
        return ""
    return formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")


def _category(code: str | None) -> str:
    return str(dict(OfferCategory.choices).get(code or "", code or _("unknown category")))


def _level(code: str) -> str:
    return str(dict(Level.choices).get(code, code))


def flag_reason(code: str, evidence: dict[str, Any]) -> str:
    """One sentence from the evidence: what made the rule fire for this person."""
    parts = evidence.get("participations", [])
    if code == "cycle":
        return ngettext(
            "%(n)d measure started between %(from)s and %(to)s, none led out.",
            "%(n)d measures started between %(from)s and %(to)s, none led out.",
            len(parts),
        ) % {
            "n": len(parts),
            "from": _day(evidence.get("window_from")),
            "to": _day(evidence.get("window_to")),
        }
    if code == "repetition":
        return _("%(category)s at level %(level)s again without having reached the level.") % {
            "category": _category(evidence.get("category")),
            "level": _level(evidence.get("level", "")),
        }
    if code == "no_progression":
        return ngettext(
            "The last participation brought no higher level.",
            "The last %(n)d participations brought no higher level.",
            len(parts),
        ) % {"n": len(parts)}
    if code == "gap":
        if evidence.get("until_today"):
            return _("%(days)d days without a participation since %(from)s.") % {
                "days": evidence.get("days", 0),
                "from": _day(evidence.get("from")),
            }
        return _("%(days)d days without a participation from %(from)s to %(to)s.") % {
            "days": evidence.get("days", 0),
            "from": _day(evidence.get("from")),
            "to": _day(evidence.get("to")),
        }
    if code == "waiting":
        if evidence.get("started_on"):
            text = _("Referral to %(category)s sent on %(sent)s started after %(days)d days")
        else:
            text = _("Referral to %(category)s sent on %(sent)s waiting for %(days)d days")
        return (text + _(" (limit %(limit)d days).")) % {
            "category": _category(evidence.get("category")),
            "sent": _day(evidence.get("sent_on")),
            "days": evidence.get("days", 0),
            "limit": evidence.get("limit_days", 0),
        }
    if code == "dropout_chain":
        return ngettext(
            "%(n)d participation aborted in a row.",
            "%(n)d participations aborted in a row.",
            len(parts),
        ) % {"n": len(parts)}
    return ""


# --- the case manager's list ----------------------------------------------------------


def _flag_cases(actor: Membership) -> QuerySet[Case]:
    """Open cases in scope whose participations the actor may read."""
    return visible_cases(actor).filter(
        category_q(actor, Category.PARTICIPATIONS), closed_on__isnull=True
    )


@dataclass
class FlagItem:
    flag: CareerFlag
    name: str
    reason: str


def _items(flags: Iterable[CareerFlag]) -> list[FlagItem]:
    rules = rule_labels()
    return [
        FlagItem(f, rule_name(rules.get(f.rule), f.rule), flag_reason(f.rule, f.evidence))
        for f in flags
    ]


def career_flag_list(
    *, actor: Membership | None, mine: bool = True, rule: str = "", page: int = 1
) -> Page:
    """Open flags on the actor's cases (``mine``: the cases the actor manages), by
    person; logged as a list read of name and participations."""
    if actor is None or not actor.has_perm(Perm.CASE_VIEW):
        return Paginator([], settings.LOTSE_PAGE_SIZE).get_page(1)
    qs = CareerFlag.objects.filter(OPEN, case__in=_flag_cases(actor))
    if mine:
        qs = qs.filter(case__case_manager=actor.user, case__lead_organisation=actor.organisation)
    if rule:
        qs = qs.filter(rule=rule)
    qs = qs.select_related("case", "person", "case__case_manager").order_by(
        "person__family_name", "person__given_names", "person_id", "-raised_at", "-pk"
    )
    result: Page[Any] = Paginator(qs, settings.LOTSE_PAGE_SIZE).get_page(page)
    flags: list[CareerFlag] = list(result.object_list)
    result.object_list = _items(flags)
    cases = list({f.case_id: f.case for f in flags if f.case is not None}.values())
    if cases:
        accesses = case_access_bulk(actor, cases)
        log_rows(actor, cases, accesses, [Category.PARTICIPATIONS], "career_flags")
    return result


def open_flag_count(*, actor: Membership | None) -> int:
    """Open flags on the cases the actor manages (dashboard notice; not logged: a
    number, no person)."""
    if actor is None or not actor.has_perm(Perm.CASE_VIEW):
        return 0
    return (
        CareerFlag.objects.filter(
            OPEN,
            case__in=_flag_cases(actor),
            case__case_manager=actor.user,
            case__lead_organisation=actor.organisation,
        )
        .values("person_id")
        .distinct()
        .count()
    )


def case_open_flags(actor: Membership, case: Case, access: CaseAccess) -> list[FlagItem]:
    """The open flags of a case, for its page (the page logs the read)."""
    if not access.allows(Category.PARTICIPATIONS) or case.closed_on is not None:
        return []
    return _items(CareerFlag.objects.filter(OPEN, case=case).order_by("-raised_at", "-pk"))


# --- one flag ------------------------------------------------------------------------


@dataclass
class TimelineItem:
    start: dt.date
    end: dt.date | None
    kind: str  # participation, gap, referral, hidden
    title: str = ""
    detail: str = ""
    status: str = ""
    link: str = ""


@dataclass
class FlagView:
    flag: CareerFlag
    case: Case
    name: str
    explanation: str
    reason: str
    params: list[tuple[str, str]] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    hidden: int = 0  # participations in the evidence not shared with the reader
    can_resolve: bool = False


def _participation_item(p: Participation) -> TimelineItem:
    outcome = dict(Outcome.choices).get(p.outcome, _("running"))
    detail = [str(p.provider.name) if p.provider else ""]
    if p.level_reached:
        detail.append(_("level reached: %(level)s") % {"level": _level(p.level_reached)})
    if p.next_step:
        detail.append(_("then: %(next)s") % {"next": dict(NextStep.choices)[p.next_step]})
    return TimelineItem(
        start=p.started_on,
        end=p.ended_on,
        kind="participation",
        title=f"{p.title} ({_category(p.category)}{', ' + _level(p.level) if p.level else ''})",
        detail=" · ".join(d for d in detail if d),
        status=str(outcome),
    )


def career_flag_get(*, actor: Membership | None, flag_id: int, log: bool = True) -> FlagView:
    """One flag with its reason and the evidence as a time line, as far as shared
    with the actor. Logged (``log`` False: a write checks scope first and logs
    through its service)."""
    flag = CareerFlag.objects.select_related("resolved_by", "person").filter(pk=flag_id).first()
    if flag is None or flag.case_id is None or actor is None:
        raise Http404
    case = case_get(actor=actor, case_id=flag.case_id)
    access = case_access(actor, case)
    if not actor.has_perm(Perm.CASE_VIEW) or not access.allows(Category.PARTICIPATIONS):
        raise PermissionDenied
    shared = participation_cases(actor, case)
    part_ids, referral_id = evidence_refs(flag.evidence)
    parts = list(
        Participation.objects.filter(pk__in=part_ids, case_id__in=shared).select_related("provider")
    )
    timeline = [_participation_item(p) for p in parts]
    evidence = flag.evidence
    if flag.rule == "gap" and evidence.get("from"):
        timeline.append(
            TimelineItem(
                start=dt.date.fromisoformat(evidence["from"]),
                end=dt.date.fromisoformat(evidence["to"]),
                kind="gap",
                title=_("%(days)d days without participation") % {"days": evidence["days"]},
            )
        )
    if referral_id is not None:
        referral = (
            Referral.objects.filter(pk=referral_id, case_id__in=shared)
            .select_related("receiver")
            .first()
        )
        if referral is not None:
            timeline.append(
                TimelineItem(
                    start=dt.date.fromisoformat(evidence["sent_on"]),
                    end=dt.date.fromisoformat(evidence["until"]),
                    kind="referral",
                    title=referral.title,
                    detail=referral.receiver.name,
                    status=str(dict(ReferralStatus.choices).get(referral.status, "")),
                )
            )
    timeline.sort(key=lambda t: (t.start, t.kind))
    rules = rule_labels()
    rule = rules.get(flag.rule)
    if log:
        log_person_read(
            actor, flag.person_id, access, [Category.PARTICIPATIONS], "career_flag", flag.pk
        )
    return FlagView(
        flag=flag,
        case=case,
        name=rule_name(rule, flag.rule),
        explanation=rule_explanation(rule, flag.params),
        reason=flag_reason(flag.rule, evidence),
        params=[
            (param_label(rule.kind if rule else flag.rule, k), param_value(v))
            for k, v in sorted(flag.params.items())
        ],
        timeline=timeline,
        hidden=len(set(part_ids) - {p.pk for p in parts}),
        can_resolve=flag.is_open and access.is_lead and actor.has_perm(Perm.CASE_EDIT),
    )


# --- counts for coordinators ------------------------------------------------------------


@dataclass
class CountRow:
    label: str
    open: int | None  # None: withheld by the disclosure control
    resolved: int | None


@dataclass
class CareerCounts:
    min_count: int
    legend: str
    by_rule: list[CountRow]
    by_provider: list[CountRow]
    by_category: list[CountRow]
    by_district: list[CountRow]


RESOLVED_WINDOW = dt.timedelta(days=365)


def _count_rows(
    pairs: pl.DataFrame, dim: str, labels: dict[Any, str], policy: Policy
) -> list[CountRow]:
    """Distinct persons per value of ``dim`` and state, small counts suppressed; rows
    with nothing to show are left out (their existence would tell a small count)."""
    if pairs.is_empty():
        return []
    counts = (
        pairs.drop_nulls(dim)
        .group_by(dim)
        .agg(
            pl.col("person_id").filter(pl.col("state") == "open").n_unique().alias("open"),
            pl.col("person_id").filter(pl.col("state") == "resolved").n_unique().alias("resolved"),
        )
    )
    values = list(counts.iter_rows())
    table = protect(
        [[o, r] for _value, o, r in values],
        row_labels=[labels.get(value, str(value)) for value, _o, _r in values],
        col_labels=["open", "resolved"],
        row_totals=False,
        col_totals=False,
        policy=policy,
    )
    rows = [
        CountRow(label, cells[0].value, cells[1].value)
        for label, cells, _total in table.rows()
        if not all(c.suppressed for c in cells)
    ]
    rows.sort(key=lambda r: (-(r.open or 0), r.label))
    return rows


def career_flag_counts(*, actor: Membership | None) -> CareerCounts:
    """Persons with an open flag, and with one resolved in the last 12 months, by
    rule, provider, offer category and district. No person, no name: not logged."""
    if actor is None or not actor.has_perm(Perm.CAREER_STATS):
        raise PermissionDenied
    policy = current_policy()
    since = timezone.now() - RESOLVED_WINDOW
    relevant = CareerFlag.objects.filter(OPEN | Q(resolved_at__gte=since)).annotate(
        state=SqlCase(When(resolved_at__isnull=True, then=Value("open")), default=Value("resolved"))
    )
    flags = pl.DataFrame(
        list(
            relevant.values_list(
                "id",
                "person_id",
                "rule",
                "state",
                "person__district__name",
                "referral__receiver__name",
                "referral__offer__category",
            )
        ),
        schema={
            "flag_id": pl.Int64,
            "person_id": pl.Int64,
            "rule": pl.String,
            "state": pl.String,
            "district": pl.String,
            "provider": pl.String,
            "category": pl.String,
        },
        orient="row",
    )
    through = CareerFlag.participations.through
    links = pl.DataFrame(
        list(
            through.objects.filter(careerflag__in=relevant).values_list(
                "careerflag_id", "participation__provider__name", "participation__category"
            )
        ),
        schema={"flag_id": pl.Int64, "provider": pl.String, "category": pl.String},
        orient="row",
    )
    base = flags.select("flag_id", "person_id", "state")
    by_part = links.join(base, on="flag_id")
    by_ref = flags.select("flag_id", "person_id", "state", "provider", "category")
    linked = pl.concat([by_part.select(by_ref.columns), by_ref])
    rules = rule_labels()
    categories = {c: str(label) for c, label in OfferCategory.choices}
    return CareerCounts(
        min_count=policy.k,
        legend=policy.legend(),
        by_rule=_count_rows(flags, "rule", {c: rule_name(r, c) for c, r in rules.items()}, policy),
        by_provider=_count_rows(linked, "provider", {}, policy),
        by_category=_count_rows(linked, "category", categories, policy),
        by_district=_count_rows(flags, "district", {}, policy),
    )
