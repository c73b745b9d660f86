"""Import of the authorities' aggregate lists of the target group (issue #7).

The foreigners' authority or the statistics office reports how many persons live in the
municipality by residence status, age and district; with these counts the municipality
knows the size of the target group outside its cases too (coverage = persons in case
management / persons in the target group). The counts are aggregates, not personal data.

File format: CSV (UTF-8 with or without BOM, or Windows-1252; ``;`` or ``,`` between
fields) or XLSX (the first sheet). The first non-empty row holds the column headers,
case-insensitive, in any order; unknown columns are ignored:

``Status`` (also ``Aufenthaltsstatus``)
    a residence status code (``duldung``: counted in its group, ``tolerated``), a status
    group code (``tolerated``) or a group's label (``geduldet / ausreisepflichtig``);
    empty (or ``alle``, ``gesamt``, ``insgesamt``) for all statuses.
``Alter`` (also ``Altersgruppe``)
    an age band code (``18_20``), a band written out exactly (``18–20``, ``18-20``), a
    single age (``19``: its band), ``unter 18`` / ``under 18``, ``45+`` / ``ab 45`` /
    ``45 und älter``; empty (or ``alle`` …) for all ages. Bands: under 18, 18–20, 21–24,
    25–27, 28–34, 35–44, 45 and older (``snapshot.AGE_BANDS``).
``Bezirk`` (also ``Stadtteil``)
    the name (or code) of a district as in lotse, case-insensitive; empty (or ``alle``
    …) for the whole municipality.
``Anzahl`` (required)
    a whole number ≥ 0 (``1.234`` is read as 1234).

Rows for the same status group, age band and district are added up, so a list by
status code folds into the groups. A file with any problem is rejected as a whole with
one message per problem naming row and column; nothing is written then. The reading of
the file (size, row and zip limits, encodings, delimiter) is the offer import's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

import polars as pl
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, IntegerField, Sum, Value, When
from django.utils import translation
from django.utils.translation import gettext as _

from lotse.core.frames import read_frame
from lotse.core.models import District, Membership
from lotse.core.roles import Perm
from lotse.offers.io import (
    MAX_ROWS,
    CellMessage,
    CellProblem,
    ImportFileError,
    Row,
    cell_int,
    cell_text,
    fold_header,
    is_blank,
    read_table,
    too_many_rows_message,
)
from lotse.people.codes import STATUS_GROUP, ResidenceStatus, StatusGroup

from .models import PopulationCount, PopulationList
from .situation import age_band_labels
from .snapshot import AGE_BANDS

STATUS, AGE, DISTRICT, COUNT = "Status", "Alter", "Bezirk", "Anzahl"
# Folded header (offers.io.fold_header) → column.
HEADERS = {
    "status": STATUS,
    "aufenthaltsstatus": STATUS,
    "alter": AGE,
    "altersgruppe": AGE,
    "bezirk": DISTRICT,
    "stadtteil": DISTRICT,
    "anzahl": COUNT,
}
# Words for "all" in the Status, Alter and Bezirk columns (like an empty cell).
ALL_WORDS = frozenset({"alle", "gesamt", "insgesamt", "all", "total"})
# More persons than this in one status group, age band and district is a mistake.
MAX_COUNT = 10_000_000
# Problems listed at most; a file with many more is wrong in one way throughout.
MAX_MESSAGES = 100

_DASHES = re.compile(r"\s*[-–—‑]\s*")
_GROUPED = re.compile(r"\d{1,3}(\.\d{3})+")  # "1.234": German thousands grouping
_RANGE = re.compile(r"(\d+)-(\d+)")
_UNDER = re.compile(r"(?:unter|under|<)\s*(\d+)")
_FROM = re.compile(r"(?:ab|from|>=|≥)\s*(\d+)|(\d+)\s*(?:\+|und (?:älter|aelter)|and older)")


# --- reading the file -------------------------------------------------------------------


def _read(file: bytes | IO[bytes], filename: str) -> list[Row]:
    """The data rows of the file by column, or :class:`ImportFileError`."""
    table = enumerate(read_table(file, filename), start=1)
    positions: dict[int, str] = {}
    for _number, values in table:
        if all(is_blank(v) for v in values):
            continue
        for index, cell in enumerate(values):
            column = None if is_blank(cell) else HEADERS.get(fold_header(str(cell)))
            if column in positions.values():
                raise ImportFileError(
                    _("The column “%(column)s” appears twice in the first row.")
                    % {"column": column}
                )
            if column is not None:
                positions[index] = column
        break
    else:
        raise ImportFileError(_("The file is empty."))
    if COUNT not in positions.values():
        raise ImportFileError(
            _(
                "The first row has no column “%(column)s”. The columns are “Status”, "
                "“Alter”, “Bezirk” and “Anzahl”; only “Anzahl” is required."
            )
            % {"column": COUNT}
        )
    rows: list[Row] = []
    for number, values in table:
        if all(is_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(too_many_rows_message())
        cells = {name: values[i] if i < len(values) else None for i, name in positions.items()}
        rows.append(Row(number=number, values=cells))
    if not rows:
        raise ImportFileError(_("The file has column headers but no counts."))
    return rows


# --- validation -------------------------------------------------------------------------


def _key(value: Any) -> str:
    return _DASHES.sub("-", " ".join(cell_text(value).split()).casefold())


def _labels(choices: type[StatusGroup] | type[ResidenceStatus]) -> dict[str, str]:
    """Label (German and English) → code."""
    mapping: dict[str, str] = {}
    for language in ("de", "en"):
        with translation.override(language):
            mapping |= {_key(label): code for code, label in choices.choices}
    return mapping


@dataclass(frozen=True)
class _Lookups:
    """The code lists and districts a file is read against, built once per file."""

    statuses: dict[str, str]
    ages: dict[str, str]
    districts: dict[str, District]

    @classmethod
    def load(cls) -> _Lookups:
        codes = _labels(ResidenceStatus) | {code: code for code in ResidenceStatus.values}
        statuses = {key: str(STATUS_GROUP[code]) for key, code in codes.items()}
        statuses |= _labels(StatusGroup) | {code: code for code in StatusGroup.values}
        ages = {code: code for code, _low, _high in AGE_BANDS}
        for language in ("de", "en"):
            with translation.override(language):
                ages |= {_key(label): code for code, label in age_band_labels().items()}
        known = list(District.objects.all())
        # A name wins over another district's code.
        districts = {_key(d.code): d for d in known} | {_key(d.name): d for d in known}
        return cls(statuses=statuses, ages=ages, districts=districts)


def _band_of(age: int) -> str | None:
    return next((code for code, low, high in AGE_BANDS if low <= age <= high), None)


def _status(value: Any, lookups: _Lookups) -> str:
    key = _key(value)
    if key in ALL_WORDS or not key:
        return ""
    if key in lookups.statuses:
        return lookups.statuses[key]
    groups = ", ".join(f"“{code}” ({label})" for code, label in StatusGroup.choices)
    raise CellProblem(
        _(
            "“%(value)s” is neither a residence status nor a status group. Allowed: a "
            "status code such as “duldung”, a group (%(groups)s), or empty for all statuses."
        )
        % {"value": cell_text(value), "groups": groups}
    )


def _age(value: Any, lookups: _Lookups) -> str:
    key = _key(value)
    if key in ALL_WORDS or not key:
        return ""
    if key in lookups.ages:
        return lookups.ages[key]
    band: str | None = None
    if key.isdigit():  # a single age (a number cell of a workbook, too)
        band = _band_of(int(key))
    elif match := _RANGE.fullmatch(key):
        low, high = int(match[1]), int(match[2])
        band = next((c for c, lo, hi in AGE_BANDS if (lo, hi) == (low, high)), None)
    elif match := _UNDER.fullmatch(key):
        band = AGE_BANDS[0][0] if int(match[1]) == AGE_BANDS[0][2] + 1 else None
    elif match := _FROM.fullmatch(key):
        band = AGE_BANDS[-1][0] if int(match[1] or match[2]) == AGE_BANDS[-1][1] else None
    if band is None:
        raise CellProblem(
            _(
                "“%(value)s” is not an age band. Allowed: %(bands)s, a single age, or empty "
                "for all ages."
            )
            % {"value": cell_text(value), "bands": ", ".join(age_band_labels().values())}
        )
    return band


def _district(value: Any, lookups: _Lookups) -> District | None:
    key = _key(value)
    if key in lookups.districts:
        return lookups.districts[key]
    if key in ALL_WORDS or not key:
        return None
    names = sorted({d.name for d in lookups.districts.values()})
    known = ", ".join(names[:20]) + (", …" if len(names) > 20 else "")
    raise CellProblem(
        _(
            "There is no district “%(value)s”. Known districts: %(names)s. Leave the cell "
            "empty for the whole municipality."
        )
        % {"value": cell_text(value), "names": known or "–"}
    )


def _count(value: Any, lookups: _Lookups) -> int:
    if is_blank(value):
        raise CellProblem(_("This field is required."))
    if isinstance(value, str) and _GROUPED.fullmatch(value.strip()):
        value = value.strip().replace(".", "")
    number = cell_int(value)
    assert number is not None
    return number


Key = tuple[str, str, int | None]  # status group, age band, district id
_CELLS: tuple[tuple[str, Callable[[Any, _Lookups], Any]], ...] = (
    (STATUS, _status),
    (AGE, _age),
    (DISTRICT, _district),
    (COUNT, _count),
)


def _validate(rows: list[Row]) -> tuple[dict[Key, int], list[CellMessage]]:
    """The counts by status group, age band and district, or messages naming row and
    column."""
    lookups = _Lookups.load()
    totals: dict[Key, int] = {}
    errors: list[CellMessage] = []
    for row in rows:
        parsed: dict[str, Any] = {}
        for column, convert in _CELLS:
            try:
                parsed[column] = convert(row.values.get(column), lookups)
            except CellProblem as problem:
                errors.append(CellMessage(row.number, column, problem.message))
        if len(parsed) < len(_CELLS):
            continue
        district = parsed[DISTRICT]
        key = (parsed[STATUS], parsed[AGE], district.pk if district else None)
        totals[key] = totals.get(key, 0) + parsed[COUNT]
        if totals[key] > MAX_COUNT:
            errors.append(
                CellMessage(
                    row.number,
                    COUNT,
                    _(
                        "The counts for this status, age band and district add up to more "
                        "than %(max)s."
                    )
                    % {"max": MAX_COUNT},
                )
            )
    return totals, errors


def _rejected(errors: list[CellMessage]) -> ValidationError:
    messages = [str(message) for message in errors[:MAX_MESSAGES]]
    if len(errors) > MAX_MESSAGES:
        messages.append(
            _("… and %(n)s more problems.") % {"n": len(errors) - MAX_MESSAGES},
        )
    return ValidationError(messages)


# --- services ---------------------------------------------------------------------------


def _require_manage(actor: Membership) -> None:
    if not actor.has_perm(Perm.ANALYTICS_MANAGE):
        raise PermissionDenied


def population_list_import(
    *,
    actor: Membership,
    source: str,
    reference_date: dt.date,
    note: str,
    file: bytes | IO[bytes],
    filename: str,
) -> PopulationList:
    """Import an authority's aggregate list: every count or, on any problem, nothing
    (:class:`ValidationError` with one message per problem, naming row and column)."""
    _require_manage(actor)
    population_list = PopulationList(
        source=source.strip(),
        reference_date=reference_date,
        note=note.strip(),
        file_name=PurePath(filename or "").name[:200],
        organisation=actor.organisation,
        imported_by=actor.user,
    )
    # The file name is checked by reading the file.
    population_list.full_clean(exclude=["organisation", "imported_by", "file_name"])
    try:
        rows = _read(file, filename)
    except ImportFileError as exc:
        raise ValidationError(exc.message) from exc
    totals, errors = _validate(rows)
    if errors:
        raise _rejected(errors)
    with transaction.atomic():
        population_list.save()
        PopulationCount.objects.bulk_create(
            PopulationCount(
                population_list=population_list,
                status_group=status_group,
                age_band=age_band,
                district_id=district_id,
                count=count,
            )
            for (status_group, age_band, district_id), count in totals.items()
        )
    return population_list


def population_list_delete(*, actor: Membership, population_list: PopulationList) -> None:
    """Delete a list with its counts."""
    _require_manage(actor)
    population_list.delete()


# --- reads ------------------------------------------------------------------------------

COUNT_SCHEMA: dict[str, pl.DataType] = {
    "status_group": pl.String(),  # "": all statuses
    "age_band": pl.String(),  # "": all ages
    "district": pl.String(),  # the district's name; "": the whole municipality
    "count": pl.Int64(),
}


def population_latest(*, on: dt.date | None = None) -> tuple[PopulationList | None, pl.DataFrame]:
    """The newest list with a reference date on or before ``on`` (default: the newest
    of all) and its counts. Aggregates: the callers check permissions."""
    lists = PopulationList.objects.all()
    if on is not None:
        lists = lists.filter(reference_date__lte=on)
    latest = lists.order_by("-reference_date", "-id").first()
    if latest is None:
        return None, pl.DataFrame(schema=COUNT_SCHEMA)
    counts = (
        PopulationCount.objects.filter(population_list=latest)
        .order_by("status_group", "age_band", "district__name", "id")
        .values_list("status_group", "age_band", "district__name", "count")
    )
    frame = read_frame(counts, COUNT_SCHEMA).with_columns(pl.col("district").fill_null(""))
    return latest, frame


def _detail(field: str, blank: Any) -> Case:
    """1 where a count is broken down by ``field``, 0 where it stands for all values."""
    return Case(
        When(**{field: blank}, then=Value(0)), default=Value(1), output_field=IntegerField()
    )


@dataclass(frozen=True)
class ListSummary:
    population_list: PopulationList
    row_count: int  # the stored counts
    total: int  # the sum over the list's coarsest breakdown (its grand total if it has one)


def population_list_summaries() -> list[ListSummary]:
    """Every list, newest first, with its number of counts and its total: subtotals in
    a list (e.g. per status and per age band) are not counted twice."""
    lists = list(PopulationList.objects.select_related("organisation", "imported_by"))
    parts = (
        PopulationCount.objects.filter(population_list__in=lists)
        .annotate(
            by_status=_detail("status_group", ""),
            by_age=_detail("age_band", ""),
            by_district=_detail("district__isnull", True),
        )
        .values("population_list", "by_status", "by_age", "by_district")
        .annotate(rows=Count("id"), total=Sum("count"))
        .order_by("population_list", "by_status", "by_age", "by_district")
    )
    rows: Counter[int] = Counter()
    coarsest: dict[int, tuple[int, int]] = {}  # list → (breakdown depth, total)
    for part in parts:
        pk = part["population_list"]
        rows[pk] += part["rows"]
        depth = part["by_status"] + part["by_age"] + part["by_district"]
        if pk not in coarsest or depth < coarsest[pk][0]:
            coarsest[pk] = (depth, part["total"])
    return [
        ListSummary(p, row_count=rows[p.pk], total=coarsest.get(p.pk, (0, 0))[1]) for p in lists
    ]
