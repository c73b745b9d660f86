"""The pseudonymised snapshot every statistic is computed from (issue #7).

Built set-based from the database — one query per table, rows straight into polars
(``core.frames``) — and then stripped: persons are known only by a pseudonym (HMAC-
SHA256 of the person id with ``LOTSE_ANALYTICS_KEY``, a key of its own), ages only as
bands and months, case dates only as quarters; no names, no birth dates, no contact
data, no free text ever enter it. The statistics (``situation`` …) read only this.

The snapshot lives in the memory of the process for ``LOTSE_ANALYTICS_TTL`` seconds
(never on disk: it is still personal data), together with the results computed from
it (``Snapshot.memo``), so a page is computed once per snapshot; ``refresh()``
rebuilds at once (the analysts' button on the pages). Each server process keeps its
own snapshot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import polars as pl
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from lotse.casework.codes import ItemKind, NeedStatus
from lotse.casework.models import AssessmentItem, Case, PlanVersion
from lotse.core.frames import read_frame
from lotse.people.codes import STATUS_GROUP
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod
from lotse.referrals.models import CareerFlag, Participation, Referral

# Age bands (years, inclusive); 18–27 is the target group of "Gemeinsam klappt's".
AGE_BANDS: tuple[tuple[str, int, int], ...] = (
    ("under_18", 0, 17),
    ("18_20", 18, 20),
    ("21_24", 21, 24),
    ("25_27", 25, 27),
    ("28_34", 28, 34),
    ("35_44", 35, 44),
    ("45_plus", 45, 200),
)
TARGET_AGES = (18, 27)
# The bands the target group is made of.
TARGET_BANDS = tuple(
    code for code, low, high in AGE_BANDS if low >= TARGET_AGES[0] and high <= TARGET_AGES[1]
)
OPEN_NEEDS = (NeedStatus.OPEN, NeedStatus.IN_PROGRESS)

PERSON_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),  # the pseudonym
    "age_months": pl.Int32(),  # on the snapshot's day (for ages on other days)
    "age_band": pl.String(),
    "target_group": pl.Boolean(),  # 18–27 on the snapshot's day
    "gender": pl.String(),
    "nationality": pl.String(),
    "district": pl.String(),  # "" when not known
    "status": pl.String(),  # last residence status known on the day; "" none
    "status_group": pl.String(),
    # Status group of the earliest effective residence status (by start, then id):
    # the status at arrival, for the flows; "" none.
    "arrival_group": pl.String(),
    "regime": pl.String(),  # last benefit regime known on the day; "" none
    "phase": pl.String(),  # of the latest case; "closed" when it is closed
    "open_case": pl.Boolean(),
}
NEED_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),
    "need_type_id": pl.Int64(),  # an open need of an open case (distinct per person)
}
PARTICIPATION_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),
    "offer_id": pl.Int64(),  # null: recorded without a catalogue offer
    "provider_id": pl.Int64(),
    "category": pl.String(),
    "started_on": pl.Date(),
    "ended_on": pl.Date(),
    "outcome": pl.String(),
    "next_step": pl.String(),
}
REFERRAL_SCHEMA: dict[str, pl.DataType] = {
    "offer_id": pl.Int64(),
    "category": pl.String(),  # of the offer
    "sent_on": pl.Date(),
    "started_on": pl.Date(),  # of its participation; null: not started
}
FLAG_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),
    "rule": pl.String(),
    "raised_on": pl.Date(),
    "resolved_on": pl.Date(),
}
PLAN_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),
    "agreed_on": pl.Date(),  # a version of the plan agreed with the person
}
CASE_SCHEMA: dict[str, pl.DataType] = {
    "pkey": pl.String(),
    "opened_quarter": pl.Date(),  # first day of the quarter
    "closed_quarter": pl.Date(),  # null while open
    "age_months_opened": pl.Int32(),  # age when the case was opened
}


def pseudonym_key() -> bytes:
    key = settings.LOTSE_ANALYTICS_KEY
    if not key:
        raise ImproperlyConfigured("LOTSE_ANALYTICS_KEY is not set")
    return str(key).encode()


def pseudonyms(ids: list[int]) -> list[str]:
    """HMAC-SHA256 of each person id, hex, 32 characters (128 bits)."""
    key = pseudonym_key()
    return [hmac.new(key, str(i).encode(), hashlib.sha256).hexdigest()[:32] for i in ids]


def quarter_start(col: pl.Expr) -> pl.Expr:
    return col.dt.truncate("1q")


def age_band(months: pl.Expr) -> pl.Expr:
    years = months // 12
    expr = pl.lit(AGE_BANDS[-1][0])
    for code, _low, high in reversed(AGE_BANDS[:-1]):
        expr = pl.when(years <= high).then(pl.lit(code)).otherwise(expr)
    return expr


def _age_months(birth: pl.Expr, on: pl.Expr | dt.date) -> pl.Expr:
    """Completed months of age on ``on``."""
    day = pl.lit(on) if isinstance(on, dt.date) else on
    months = (day.dt.year() - birth.dt.year()) * 12 + day.dt.month() - birth.dt.month()
    return (months - (day.dt.day() < birth.dt.day()).cast(pl.Int32)).cast(pl.Int32)


def _latest(frame: pl.DataFrame, value: str) -> pl.DataFrame:
    """Per person the value of the latest entry (by start, then id)."""
    return (
        frame.sort("person_id", "valid_from", "id")
        .group_by("person_id", maintain_order=True)
        .agg(pl.col(value).last())
    )


def _earliest(frame: pl.DataFrame, value: str, alias: str) -> pl.DataFrame:
    """Per person the value of the earliest entry (by start, then id) as ``alias``."""
    return (
        frame.sort("person_id", "valid_from", "id")
        .group_by("person_id", maintain_order=True)
        .agg(pl.col(value).first().alias(alias))
    )


@dataclass
class Snapshot:
    on: dt.date
    built_at: dt.datetime
    seconds: float
    persons: pl.DataFrame
    cases: pl.DataFrame
    needs: pl.DataFrame
    participations: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=PARTICIPATION_SCHEMA)
    )
    referrals: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=REFERRAL_SCHEMA))
    flags: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=FLAG_SCHEMA))
    plans: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=PLAN_SCHEMA))
    memo: dict[Any, Any] = field(default_factory=dict)
    # Reentrant: a memoized result may memoize its parts (quality, indicators).
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def size(self) -> int:
        return self.persons.height


T = TypeVar("T")


def memoized(snapshot: Snapshot, key: Any, compute: Callable[[], T]) -> T:
    """A result computed once per snapshot."""
    with snapshot.lock:
        if key not in snapshot.memo:
            snapshot.memo[key] = compute()
        return snapshot.memo[key]


def build(*, on: dt.date, using: str = "default") -> Snapshot:
    started = time.perf_counter()
    effective = Q(is_retraction=False, superseded_by__isnull=True, valid_from__lte=on)
    people = read_frame(
        Person.objects.order_by().values_list(
            "id", "birth_date", "gender", "nationality", "district__name"
        ),
        {
            "person_id": pl.Int64(),
            "birth_date": pl.Date(),
            "gender": pl.String(),
            "nationality": pl.String(),
            "district": pl.String(),
        },
        using,
    )
    timeline = {"person_id": pl.Int64(), "id": pl.Int64(), "valid_from": pl.Date()}
    statuses = read_frame(
        ResidenceStatusPeriod.objects.filter(effective)
        .order_by()
        .values_list("person_id", "id", "valid_from", "status"),
        {**timeline, "status": pl.String()},
        using,
    )
    regimes = read_frame(
        BenefitPeriod.objects.filter(effective)
        .order_by()
        .values_list("person_id", "id", "valid_from", "regime"),
        {**timeline, "regime": pl.String()},
        using,
    )
    cases = read_frame(
        Case.objects.filter(opened_on__lte=on)
        .order_by()
        .values_list("person_id", "id", "opened_on", "closed_on", "phase"),
        {
            "person_id": pl.Int64(),
            "id": pl.Int64(),
            "opened_on": pl.Date(),
            "closed_on": pl.Date(),
            "phase": pl.String(),
        },
        using,
    )
    # A case closed after the day was open on it.
    cases = cases.with_columns(
        closed_on=pl.when(pl.col("closed_on") <= on).then(pl.col("closed_on")),
    )
    latest_case = (
        cases.sort("person_id", "opened_on", "id")
        .group_by("person_id", maintain_order=True)
        .agg(
            phase=pl.when(pl.col("closed_on").last().is_null())
            .then(pl.col("phase").last())
            .otherwise(pl.lit("closed")),
            open_case=pl.col("closed_on").is_null().any(),
        )
    )
    ids = people["person_id"].to_list()
    keys = pl.DataFrame(
        {"person_id": ids, "pkey": pseudonyms(ids)},
        schema={"person_id": pl.Int64(), "pkey": pl.String()},
    )

    def group_of(column: str) -> pl.Expr:
        return pl.col(column).replace_strict(STATUS_GROUP, default="", return_dtype=pl.String())

    persons = (
        people.join(_latest(statuses, "status"), on="person_id", how="left")
        .join(_earliest(statuses, "status", "arrival_status"), on="person_id", how="left")
        .join(_latest(regimes, "regime"), on="person_id", how="left")
        .join(latest_case, on="person_id", how="left")
        .join(keys, on="person_id")
        .with_columns(age_months=_age_months(pl.col("birth_date"), on))
        .with_columns(
            age_band=age_band(pl.col("age_months")),
            target_group=(pl.col("age_months") // 12).is_between(*TARGET_AGES),
            status=pl.col("status").fill_null(""),
            regime=pl.col("regime").fill_null(""),
            district=pl.col("district").fill_null(""),
            phase=pl.col("phase").fill_null(""),
            open_case=pl.col("open_case").fill_null(False),
        )
        .with_columns(
            status_group=group_of("status"),
            arrival_group=group_of("arrival_status").fill_null(""),
        )
        .select(list(PERSON_SCHEMA))
    )
    births = people.select("person_id", "birth_date")
    case_rows = (
        cases.join(births, on="person_id")
        .join(keys, on="person_id")
        .select(
            "pkey",
            opened_quarter=quarter_start(pl.col("opened_on")),
            closed_quarter=quarter_start(pl.col("closed_on")),
            age_months_opened=_age_months(pl.col("birth_date"), pl.col("opened_on")),
        )
    )
    needs = (
        read_frame(
            AssessmentItem.objects.filter(
                kind=ItemKind.NEED,
                status__in=OPEN_NEEDS,
                need_type__isnull=False,
                assessment__case__closed_on__isnull=True,
                assessment__assessed_on__lte=on,
            )
            .order_by()
            .values_list("assessment__case__person_id", "need_type_id"),
            {"person_id": pl.Int64(), "need_type_id": pl.Int64()},
            using,
        )
        .unique()
        .join(keys, on="person_id")
        .select(list(NEED_SCHEMA))
    )
    parts = (
        read_frame(
            Participation.objects.filter(started_on__lte=on)
            .order_by()
            .values_list(
                "person_id",
                "offer_id",
                "provider_id",
                "category",
                "started_on",
                "ended_on",
                "outcome",
                "next_step",
            ),
            {
                "person_id": pl.Int64(),
                **{k: v for k, v in PARTICIPATION_SCHEMA.items() if k != "pkey"},
            },
            using,
        )
        .join(keys, on="person_id")
        .with_columns(
            # Ended after the day: still running on it.
            ended_on=pl.when(pl.col("ended_on") <= on).then(pl.col("ended_on")),
            outcome=pl.when(pl.col("ended_on") <= on).then(pl.col("outcome")).otherwise(pl.lit("")),
            next_step=pl.col("next_step").fill_null(""),
        )
        .select(list(PARTICIPATION_SCHEMA))
    )
    referrals = read_frame(
        Referral.objects.filter(offer__isnull=False, sent_at__isnull=False)
        .annotate(sent_on=TruncDate("sent_at"))
        .filter(sent_on__lte=on)
        .order_by()
        .values_list("offer_id", "offer__category", "sent_on", "participation__started_on"),
        REFERRAL_SCHEMA,
        using,
    ).with_columns(started_on=pl.when(pl.col("started_on") <= on).then(pl.col("started_on")))
    flags = (
        read_frame(
            CareerFlag.objects.annotate(
                raised_on=TruncDate("raised_at"), resolved_on=TruncDate("resolved_at")
            )
            .order_by()
            .values_list("person_id", "rule", "raised_on", "resolved_on"),
            {"person_id": pl.Int64(), **{k: v for k, v in FLAG_SCHEMA.items() if k != "pkey"}},
            using,
        )
        .join(keys, on="person_id")
        .select(list(FLAG_SCHEMA))
    )
    plans = (
        read_frame(
            PlanVersion.objects.order_by().values_list("plan__case__person_id", "agreed_on"),
            {"person_id": pl.Int64(), "agreed_on": pl.Date()},
            using,
        )
        .join(keys, on="person_id")
        .select(list(PLAN_SCHEMA))
    )
    return Snapshot(
        on=on,
        built_at=timezone.now(),
        seconds=time.perf_counter() - started,
        persons=persons,
        cases=case_rows,
        needs=needs,
        participations=parts,
        referrals=referrals,
        flags=flags,
        plans=plans,
    )


_cache: dict[tuple[str, dt.date], Snapshot] = {}
_cache_lock = threading.Lock()


def current(*, on: dt.date | None = None, using: str = "default") -> Snapshot:
    """The snapshot of ``on`` (default today), rebuilt when older than the TTL."""
    day = on or timezone.localdate()
    ttl = int(settings.LOTSE_ANALYTICS_TTL)
    with _cache_lock:
        snap = _cache.get((using, day))
        if snap is None or (timezone.now() - snap.built_at).total_seconds() >= ttl:
            snap = build(on=day, using=using)
            _cache.clear()  # one snapshot at a time: old days are not kept
            if ttl > 0:
                _cache[(using, day)] = snap
        return snap


def is_fresh(*, on: dt.date | None = None, using: str = "default") -> bool:
    day = on or timezone.localdate()
    snap = _cache.get((using, day))
    ttl = int(settings.LOTSE_ANALYTICS_TTL)
    return snap is not None and (timezone.now() - snap.built_at).total_seconds() < ttl


def refresh(*, on: dt.date | None = None, using: str = "default") -> Snapshot:
    with _cache_lock:
        _cache.clear()
    return current(on=on, using=using)
