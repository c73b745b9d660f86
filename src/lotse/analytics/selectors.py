"""Reads of the analytics (issue #7): permission, the snapshot, the disclosure
control and the access log in one place. Everything returned is aggregate and
protected; no person leaves here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import polars as pl
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from lotse.core.disclosure import Policy, ProtectedTable, current_policy, protect_counts
from lotse.core.models import AccessAction, Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.core.services import access_log_record_aggregate
from lotse.offers.access import legally_closed
from lotse.offers.models import Offer
from lotse.people.models import TargetGroup

from . import snapshot
from .coverage import Coverage, coverage
from .gaps import GapCell, GapMatrix, Group, Need, OfferSupply, gap_matrix, protected_demand
from .indicators import UNIT, Value, compute, trend_days
from .models import Goal, NeedClassification
from .population import population_latest
from .quality import Quality, quality
from .situation import POPULATIONS, Situation, situation

# The categories of personal data the situation picture is computed from.
SITUATION_CATEGORIES = ("master", "residence", "benefits")


def _require(actor: Membership | None, perm: str = Perm.ANALYTICS_VIEW) -> Membership:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied
    return actor


T = TypeVar("T")


def _read_logged(
    actor: Membership | None,
    compute: Callable[[snapshot.Snapshot, Policy], T],
    categories: Sequence[str],
    object_id: str,
) -> T:
    """Permission, today's snapshot and policy, and one aggregate read in the log."""
    member = _require(actor)
    result = compute(snapshot.current(), current_policy())
    access_log_record_aggregate(
        actor=member,
        action=AccessAction.READ,
        categories=categories,
        object_type="analytics",
        object_id=object_id,
    )
    return result


def situation_of(snap: snapshot.Snapshot, population: str, policy: Policy) -> Situation:
    """The situation picture of a snapshot (once per snapshot; no permission, no log:
    for the selectors and the report, which check and log themselves)."""
    return snapshot.memoized(
        snap,
        ("situation", population, policy, get_language()),
        lambda: situation(snap, population=population, policy=policy),
    )


def situation_get(
    *, actor: Membership | None, population: str = "open", action: str = AccessAction.READ
) -> Situation:
    """The situation picture of today's snapshot; logged as one aggregate read."""
    member = _require(actor)
    if population not in POPULATIONS:
        population = "open"
    result = situation_of(snapshot.current(), population, current_policy())
    access_log_record_aggregate(
        actor=member,
        action=action,
        categories=SITUATION_CATEGORIES,
        object_type="analytics",
        object_id=f"situation:{population}",
    )
    return result


def coverage_get(*, actor: Membership | None, sit: Situation) -> Coverage | None:
    """Coverage of the target group against the newest population list (None without
    a usable list). Part of the situation picture's read: not logged again."""
    _require(actor)
    return coverage_of(sit)


def coverage_of(sit: Situation) -> Coverage | None:
    """Coverage of a situation picture (no permission, no log)."""
    if sit.population != "open":
        return None
    latest, counts = population_latest()
    if latest is None:
        return None
    snap = snapshot.current(on=sit.on)
    return snapshot.memoized(
        snap,
        ("coverage", latest.pk, sit.policy, get_language()),
        lambda: coverage(
            sit,
            source=latest.source,
            reference_date=latest.reference_date,
            counts=counts,
            policy=sit.policy,
        ),
    )


GAP_CATEGORIES = ("master", "residence", "education", "work")


def target_groups() -> list[Group]:
    """The active target groups, in their order."""
    return [
        Group(pk, code, name, tuple(sg or ()), low, high)
        for pk, code, name, sg, low, high in TargetGroup.objects.filter(is_active=True).values_list(
            "id", "code", "name", "status_groups", "age_min", "age_max"
        )
    ]


def _gap_inputs() -> tuple[list[Need], list[Group], list[OfferSupply], dict[tuple[int, int], str]]:
    needs = [
        Need(pk, code, name, domain)
        for pk, code, name, domain in NeedType.objects.filter(is_active=True)
        .order_by("life_domain", "name")
        .values_list("id", "code", "name", "life_domain")
    ]
    groups = target_groups()
    today = timezone.localdate()
    running = Offer.objects.filter(is_active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    links: dict[int, list[int]] = {}
    for offer_id, need_id in Offer.need_types.through.objects.filter(offer__in=running).values_list(
        "offer_id", "needtype_id"
    ):
        links.setdefault(offer_id, []).append(need_id)
    offers = [
        OfferSupply(
            pk,
            title,
            provider,
            category,
            tuple(statuses or ()),
            age_min,
            age_max,
            None if capacity is None else max(0, capacity - occupied),
            tuple(links.get(pk, ())),
        )
        for pk, title, provider, category, statuses, age_min, age_max, capacity, occupied in (
            running.values_list(
                "id",
                "title",
                "provider__name",
                "category",
                "statuses",
                "age_min",
                "age_max",
                "capacity",
                "occupied",
            )
        )
    ]
    levels = {
        (n, g): level
        for n, g, level in NeedClassification.objects.values_list(
            "need_type_id", "target_group_id", "level"
        )
    }
    return needs, groups, offers, levels


def gaps_of(snap: snapshot.Snapshot, policy: Policy) -> GapMatrix:
    """The gap matrix: demand from the snapshot (computed once per snapshot), supply
    and classification as they are now. No permission, no log."""
    needs, groups, offers, levels = _gap_inputs()
    key = ("demand", tuple(n.id for n in needs), tuple(groups), policy, get_language())
    demand = snapshot.memoized(snap, key, lambda: protected_demand(snap, needs, groups, policy))
    return gap_matrix(
        snap,
        needs=needs,
        groups=groups,
        offers=offers,
        levels=levels,
        closed=legally_closed,
        policy=policy,
        demand=demand,
    )


def gaps_get(
    *, actor: Membership | None, action: str = AccessAction.READ, object_id: str = "gaps"
) -> GapMatrix:
    """The gap matrix: demand from today's snapshot (computed once per snapshot),
    supply and classification as they are now; logged as one aggregate read."""
    member = _require(actor)
    matrix = gaps_of(snapshot.current(), current_policy())
    access_log_record_aggregate(
        actor=member,
        action=action,
        categories=GAP_CATEGORIES,
        object_type="analytics",
        object_id=object_id,
    )
    return matrix


@dataclass(frozen=True)
class GapDetail:
    cell: GapCell
    by_district: ProtectedTable
    offers: list[OfferSupply]
    policy: Policy


def gap_detail_get(*, actor: Membership | None, need_code: str, group_code: str) -> GapDetail:
    """One cell of the gap matrix: demand by district (protected; its total is the
    cell's demand) and the accessible offers. KeyError for unknown codes."""
    member = _require(actor)
    matrix = gaps_get(actor=member, object_id=f"gaps:{need_code}:{group_code}")
    cell = matrix.cell(need_code, group_code)
    snap = snapshot.current()
    members = cell.group.persons(snap.persons)
    with_need = snap.needs.filter(pl.col("need_type_id") == cell.need.id).select("pkey")
    by_district = (
        members.join(with_need, on="pkey")
        .group_by("district")
        .len()
        .sort(["len", "district"], descending=[True, False])
    )
    labels = [d or _("not known") for d in by_district["district"].to_list()]
    table = protect_counts(
        by_district["len"].to_list(),
        labels=labels,
        column=_("persons"),
        policy=matrix.policy,
    )
    wanted = set(cell.offers)
    offers = [o for o in _gap_inputs()[2] if o.id in wanted]
    offers.sort(key=lambda o: (o.free is not None, -(o.free or 0), o.title))
    return GapDetail(cell=cell, by_district=table, offers=offers, policy=matrix.policy)


QUALITY_CATEGORIES = ("participations",)


@dataclass(frozen=True)
class QualityView:
    quality: Quality
    offer_names: dict[int, tuple[str, str]]  # id → (title, provider)
    provider_names: dict[int, str]


def quality_get(*, actor: Membership | None) -> QualityView:
    """Offer quality from today's snapshot (once per snapshot); logged as one
    aggregate read."""
    return _read_logged(actor, quality_of, QUALITY_CATEGORIES, "quality")


def quality_of(snap: snapshot.Snapshot, policy: Policy) -> QualityView:
    """Offer quality of a snapshot (once per snapshot) with the names of offers and
    providers. No permission, no log."""
    offers = {
        pk: (title, provider, provider_id)
        for pk, title, provider, provider_id in (
            Offer.objects.values_list("id", "title", "provider__name", "provider_id")
        )
    }
    result = snapshot.memoized(
        snap,
        ("quality", policy),
        lambda: quality(snap, policy=policy, offer_provider={k: v[2] for k, v in offers.items()}),
    )
    providers = dict(
        Organisation.objects.filter(pk__in=[r.key for r in result.by_provider]).values_list(
            "id", "name"
        )
    )
    return QualityView(
        quality=result,
        offer_names={k: (v[0], v[1]) for k, v in offers.items()},
        provider_names=providers,
    )


GOAL_CATEGORIES = ("master", "residence", "participations", "plan")


@dataclass(frozen=True)
class GoalNode:
    goal: Goal
    children: tuple[GoalNode, ...]
    unit: str = ""  # "percent" or "days" for result goals
    value: Value | None = None  # today
    trend: tuple[tuple[dt.date, float | None], ...] = ()  # quarter ends, then today

    @property
    def met(self) -> bool | None:
        """Whether today's value reaches the target (None: no value or no target)."""
        if self.value is None or self.value.value is None or self.goal.target_value is None:
            return None
        if self.goal.higher_is_better:
            return self.value.value >= self.goal.target_value
        return self.value.value <= self.goal.target_value


def goal_tree_get(*, actor: Membership | None) -> tuple[GoalNode, ...]:
    """The goal tree with every result goal's indicator today and at the ends of the
    last four quarters (from today's snapshot, once per snapshot); one aggregate read
    in the access log."""
    return _read_logged(actor, goal_tree_of, GOAL_CATEGORIES, "goals")


def goal_tree_of(snap: snapshot.Snapshot, policy: Policy) -> tuple[GoalNode, ...]:
    """The goal tree measured on a snapshot. No permission, no log."""
    goals = list(Goal.objects.all())
    days = trend_days(snap.on)

    def measured(goal: Goal) -> tuple[Value, tuple[tuple[dt.date, float | None], ...]]:
        key = ("indicator", goal.indicator, json.dumps(goal.params, sort_keys=True), policy)

        def compute_all() -> tuple[Value, tuple[tuple[dt.date, float | None], ...]]:
            values = [compute(snap, goal.indicator, goal.params, d, policy) for d in days]
            return values[-1], tuple((d, v.value) for d, v in zip(days, values, strict=True))

        return snapshot.memoized(snap, key, compute_all)

    children: dict[int | None, list[Goal]] = {}
    for g in goals:
        children.setdefault(g.parent_id, []).append(g)

    def node(goal: Goal) -> GoalNode:
        kids = tuple(node(c) for c in children.get(goal.pk, []))
        if not goal.indicator:
            return GoalNode(goal, kids)
        value, trend = measured(goal)
        return GoalNode(goal, kids, UNIT[goal.indicator], value, trend)

    return tuple(node(g) for g in children.get(None, []))


def snapshot_fresh(*, actor: Membership | None) -> bool:
    """Whether the statistics can be shown at once (else the page loads them with a
    progress indicator)."""
    _require(actor)
    return snapshot.is_fresh()


def snapshot_refresh(*, actor: Membership | None) -> snapshot.Snapshot:
    _require(actor, Perm.ANALYTICS_MANAGE)
    return snapshot.refresh()
