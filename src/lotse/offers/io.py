"""Export of the offer catalogue to XLSX/CSV and import from XLSX/CSV (issue #5).

One column layout for both formats, with the German headers of the municipality's
spreadsheets (they are data, not UI text, and stay German in every UI language).
Codes are exported (stable across UI languages); the import also takes the labels.

Import in three steps: :func:`parse_upload` reads the file into :class:`Row` s (or
raises :class:`ImportFileError` with a message for the user), :func:`validate_rows`
maps every row to offer values or to messages naming row and column, and
:func:`apply` writes all rows in one transaction through the offer services after
validating again, or nothing.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from lotse.core.models import District, Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.people.codes import CefrLevel, Language, ResidenceStatus

from . import services
from .codes import FieldOfAction, Funding, Level, OfferCategory
from .models import Offer
from .selectors import offer_can_edit

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
# Rows read from a sheet at most, empty ones included, and the unpacked size of an
# XLSX (a zip): guards against files that are small on the wire and huge inside.
MAX_SCANNED_ROWS = 20_000
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_COLUMNS = 100

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

YES, NO = "ja", "nein"
_TRUE = {"ja", "j", "yes", "y", "true", "wahr", "1", "x"}
_FALSE = {"nein", "n", "no", "false", "falsch", "0", "-"}
_DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d")
# Text starting with one of these is a formula in a spreadsheet program: the CSV export
# puts an apostrophe in front (OWASP "CSV injection"), the CSV import takes it off.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    header: str
    field: str  # model field; "id" and "need_types" are handled apart
    kind: str  # id, text, int, date, bool, choice, codes, provider, district, need_types
    width: int = 16
    choices: type[models.TextChoices] | None = None
    required: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("ID", "id", "id", 8),
    Column("Titel", "title", "text", 40, required=True),
    Column("Träger", "provider", "provider", 30, required=True),
    Column("Handlungsfeld", "field_of_action", "choice", 16, FieldOfAction, required=True),
    Column("Kategorie", "category", "choice", 20, OfferCategory, required=True),
    Column("Beschreibung", "description", "text", 50),
    Column("Bedarfe", "need_types", "need_types", 30),
    Column("Niveau", "level", "choice", 12, Level),
    Column("Aufenthaltsstatus", "statuses", "codes", 30, ResidenceStatus),
    Column("Alter von", "age_min", "int", 10),
    Column("Alter bis", "age_max", "int", 10),
    Column("Deutsch mindestens", "german_min", "choice", 12, CefrLevel),
    Column("Voraussetzungen", "prerequisites", "text", 30),
    Column("Stadtteil", "district", "district", 18),
    Column("Adresse", "address", "text", 30),
    Column("Beginn", "starts_on", "date", 12),
    Column("Ende", "ends_on", "date", 12),
    Column("Laufender Einstieg", "rolling_entry", "bool", 10),
    Column("Zeiten", "schedule", "text", 24),
    Column("Plätze", "capacity", "int", 9),
    Column("Belegt", "occupied", "int", 9),
    Column("Unterrichtssprachen", "languages", "codes", 18, Language),
    Column("Finanzierung", "funding", "choice", 14, Funding, required=True),
    Column("Kosten", "cost_note", "text", 20),
    Column("Ansprechperson", "contact_name", "text", 22),
    Column("E-Mail", "contact_email", "text", 26),
    Column("Telefon", "contact_phone", "text", 18),
    Column("Kinderbetreuung", "childcare", "bool", 10),
    Column("Prüfen bis", "review_due", "date", 12, required=True),
    Column("Aktiv", "is_active", "bool", 8),
)
HEADERS = [c.header for c in COLUMNS]
BY_HEADER = {c.header: c for c in COLUMNS}
BY_FIELD = {c.field: c for c in COLUMNS}


# --- export -----------------------------------------------------------------------------


def _export_rows(queryset: QuerySet[Offer]) -> Iterator[list[Any]]:
    offers = queryset.select_related("provider", "district").prefetch_related("need_types")
    for offer in offers:
        row: list[Any] = []
        for column in COLUMNS:
            if column.kind == "id":
                row.append(offer.pk)
            elif column.kind == "provider":
                row.append(offer.provider.name)
            elif column.kind == "district":
                row.append(offer.district.code if offer.district else None)
            elif column.kind == "need_types":
                row.append(";".join(sorted(n.code for n in offer.need_types.all())) or None)
            elif column.kind == "codes":
                row.append(";".join(getattr(offer, column.field)) or None)
            elif column.kind == "bool":
                row.append(YES if getattr(offer, column.field) else NO)
            else:
                value = getattr(offer, column.field)
                row.append(None if value in (None, "") else value)
        yield row


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    text = str(value)
    if text.startswith((*_FORMULA_START, "'")):
        return "'" + text
    return text


def export_csv(queryset: QuerySet[Offer]) -> bytes:
    """The offers as CSV the way German Excel opens it: UTF-8 with BOM, ";" between
    fields, dates as DD.MM.YYYY."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in _export_rows(queryset):
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def export_xlsx(queryset: QuerySet[Offer]) -> bytes:
    """The offers as an Excel workbook: bold frozen header row, filters, column widths,
    dates as date cells."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Angebote"
    sheet.append(HEADERS)
    bold = Font(bold=True)
    for cell in sheet[1]:
        cell.font = bold
    count = 0
    for count, values in enumerate(_export_rows(queryset), start=2):
        for index, value in enumerate(values, start=1):
            if value is None:
                continue
            cell = sheet.cell(row=count, column=index, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif isinstance(value, dt.date):
                cell.number_format = "DD.MM.YYYY"
    for index, column in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(count, 1)}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- reading a file ---------------------------------------------------------------------


class ImportFileError(Exception):
    """The file cannot be read as a table of offers; the message is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Row:
    """One line of the file: ``number`` as the spreadsheet program shows it, ``values``
    the raw cells by column header for the columns the file has."""

    number: int
    values: dict[str, Any]


class Rows(list[Row]):
    """The rows of a file, with the columns it has and those it has but nobody knows."""

    columns: tuple[str, ...] = ()
    ignored_columns: tuple[str, ...] = ()


def fold_header(text: str) -> str:
    text = " ".join(str(text).split()).casefold().rstrip("*").strip()
    for old, new in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss"), ("-", " ")):
        text = text.replace(old, new)
    return text


_HEADER_LOOKUP = {fold_header(c.header): c.header for c in COLUMNS} | {
    "email": "E-Mail",
    "e mail adresse": "E-Mail",
}


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(file: Any, filename: str) -> Iterator[list[Any]]:
    """The raw rows of an uploaded .xlsx or .csv file (bytes or a file object), after
    the checks of size, emptiness and type (:class:`ImportFileError` with a message for
    the user). Also used by the import of the population lists (analytics)."""
    if isinstance(file, bytes | bytearray):
        data = bytes(file)
    else:
        if hasattr(file, "seek"):
            file.seek(0)
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ImportFileError(
            _("The file is larger than %(mb)s MB. Split it into several files.")
            % {"mb": MAX_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    suffix = PurePath(filename or "").suffix.lower()
    if suffix == ".xlsx":
        return _read_xlsx(data)
    if suffix in {".csv", ".txt"}:
        return _read_csv(data)
    if suffix in {".xls", ".ods", ".numbers", ".xlsm"}:
        raise ImportFileError(
            _("Files of type %(suffix)s cannot be read. Save the table as .xlsx or .csv.")
            % {"suffix": suffix}
        )
    raise ImportFileError(_("Only .xlsx and .csv files can be imported."))


def parse_upload(file: Any, filename: str) -> Rows:
    """The rows of an uploaded .xlsx or .csv file (bytes or a file object)."""
    table = read_table(file, filename)
    # Our CSV export escapes text that a spreadsheet would take for a formula.
    unescape = PurePath(filename or "").suffix.lower() != ".xlsx"
    return _rows_from_table(table, unescape=unescape)


def _read_xlsx(data: bytes) -> Iterator[list[Any]]:
    not_xlsx = _(
        "The file is not a readable XLSX workbook. Save it again from your spreadsheet "
        "program as .xlsx (Excel workbook) or as .csv."
    )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise ImportFileError(not_xlsx) from exc
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(
            _("The workbook is too large once unpacked. Split it into several files.")
        )
    from openpyxl import load_workbook

    rows: list[list[Any]] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                for values in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                    rows.append(list(values))
                    if len(rows) > MAX_SCANNED_ROWS:
                        raise ImportFileError(too_many_rows_message())
            finally:
                workbook.close()
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds on broken files
        raise ImportFileError(not_xlsx) from exc
    return iter(rows)


def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise ImportFileError(_("The file cannot be read as text.")) from exc
    if data.startswith(b"PK\x03\x04"):
        raise ImportFileError(
            _("This is an Excel workbook, not a CSV file. Upload it with the ending .xlsx.")
        )
    if b"\x00" in data:
        raise ImportFileError(
            _("The file is not a CSV text file. Save the table as .csv or .xlsx.")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # German Excel saves "CSV (Trennzeichen-getrennt)" in Windows-1252.
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("The text encoding of the file is unknown. Save it as CSV in UTF-8.")
        ) from exc


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _read_csv(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[list[Any]] = []
    try:
        for values in reader:
            rows.append(values[:MAX_COLUMNS])
            if len(rows) > MAX_SCANNED_ROWS:
                raise ImportFileError(too_many_rows_message())
    except csv.Error as exc:
        raise ImportFileError(
            _("The CSV file is malformed in line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return iter(rows)


def too_many_rows_message() -> str:
    return _("The file has more than %(max)s rows. Split it into several files.") % {
        "max": number_format(MAX_ROWS, force_grouping=True)
    }


def _unescape(value: Any) -> Any:
    if isinstance(value, str) and value[:1] == "'" and value[1:2] in ("'", *_FORMULA_START):
        return value[1:]
    return value


def _rows_from_table(table: Iterator[list[Any]], *, unescape: bool) -> Rows:
    number = 0
    header: list[Any] | None = None
    for values in table:
        number += 1
        if any(not is_blank(v) for v in values):
            header = values
            break
    if header is None:
        raise ImportFileError(_("The file is empty."))
    positions: dict[int, str] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        if is_blank(cell):
            continue
        name = _HEADER_LOOKUP.get(fold_header(str(cell)))
        if name is None:
            ignored.append(str(cell).strip())
        elif name in positions.values():
            raise ImportFileError(
                _("The column “%(column)s” appears twice in the first row.") % {"column": name}
            )
        else:
            positions[index] = name
    if not positions:
        raise ImportFileError(
            _(
                "The first row of the file has none of the known column headers (for "
                "example %(examples)s). Start from an exported file."
            )
            % {"examples": ", ".join(f"“{h}”" for h in HEADERS[1:5])}
        )
    rows = Rows()
    rows.columns = tuple(h for h in HEADERS if h in positions.values())
    rows.ignored_columns = tuple(ignored)
    for values in table:
        number += 1
        if all(is_blank(v) for v in values):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(too_many_rows_message())
        cells = {
            name: (_unescape(values[i]) if unescape else values[i]) if i < len(values) else None
            for i, name in positions.items()
        }
        rows.append(Row(number=number, values=cells))
    if not rows:
        raise ImportFileError(_("The file has column headers but no offers."))
    return rows


# --- validation -------------------------------------------------------------------------


class CellProblem(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CellMessage:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return _("Row %(row)s, column “%(column)s”: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


NEW, UPDATE, ERROR = "new", "update", "error"


@dataclass
class RowResult:
    number: int
    action: str = NEW
    offer_id: int | None = None
    title: str = ""
    provider_name: str = ""
    # What the services get: every editable field for a new offer, the changed ones for
    # an update; need types None when they stay as they are.
    values: dict[str, Any] = field(default_factory=dict)
    need_types: list[NeedType] | None = None
    is_active: bool | None = None  # None: stays as it is
    occupied: int = 0  # places taken of a new offer
    changed: list[str] = field(default_factory=list)  # column headers of an update
    errors: list[CellMessage] = field(default_factory=list)
    notes: list[CellMessage] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return self.action == NEW or (self.action == UPDATE and bool(self.changed))


@dataclass
class Preview:
    rows: list[RowResult]
    source: Rows
    ignored_columns: tuple[str, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(r.errors for r in self.rows)

    @property
    def errors(self) -> list[CellMessage]:
        return [m for r in self.rows for m in r.errors]

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def new_count(self) -> int:
        return self.count(NEW)

    @property
    def update_count(self) -> int:
        return sum(1 for r in self.rows if r.action == UPDATE and r.changed)

    @property
    def unchanged_count(self) -> int:
        return sum(1 for r in self.rows if r.action == UPDATE and not r.changed)

    @property
    def error_count(self) -> int:
        return self.count(ERROR)

    @property
    def write_count(self) -> int:
        return sum(1 for r in self.rows if r.writes)


class _Lookups:
    """The code lists and existing records a file refers to, loaded once per file."""

    def __init__(self, rows: Rows) -> None:
        self.choices: dict[type[models.TextChoices], dict[str, str]] = {}
        orgs = list(Organisation.objects.all())
        self.providers: dict[str, Organisation] = {o.name.casefold(): o for o in orgs}
        # A short name serves when it is unique and nobody's name.
        shorts = Counter(o.short_name.casefold() for o in orgs if o.short_name)
        for org in orgs:
            key = org.short_name.casefold()
            if key and shorts[key] == 1:
                self.providers.setdefault(key, org)
        self.districts: dict[str, District] = {}
        for district in District.objects.all():
            self.districts.setdefault(district.name.casefold(), district)
        for district in District.objects.all():
            self.districts[district.code.casefold()] = district
        self.need_types: dict[str, NeedType] = {}
        for need in NeedType.objects.all():
            self.need_types.setdefault(need.name.casefold(), need)
        for need in NeedType.objects.all():
            self.need_types[need.code.casefold()] = need
        ids = {i for i in (_id(row.values.get("ID")) for row in rows) if i is not None}
        self.offers: dict[int, Offer] = {
            offer.pk: offer
            for offer in Offer.objects.filter(pk__in=ids)
            .select_related("provider", "district")
            .prefetch_related("need_types")
        }

    def choice_map(self, choices: type[models.TextChoices]) -> dict[str, str]:
        if choices not in self.choices:
            mapping: dict[str, str] = {}
            for language in ("en", "de", translation.get_language() or "de"):
                with translation.override(language):
                    for code, label in choices.choices:
                        mapping.setdefault(str(label).casefold(), code)
            for code in choices.values:
                mapping[code.casefold()] = code
            self.choices[choices] = mapping
        return self.choices[choices]


def _id(value: Any) -> int | None:
    try:
        return cell_int(value)
    except CellProblem:
        return None


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d.%m.%Y")
    return str(value).strip()


def cell_int(value: Any) -> int | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellProblem(_("“%(value)s” is not a whole number.") % {"value": cell_text(value)})
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "")
        if not re.fullmatch(r"[+-]?\d+", text):
            raise CellProblem(_("“%(value)s” is not a whole number.") % {"value": cell_text(value)})
        number = int(text)
    if number < 0:
        raise CellProblem(_("The number cannot be negative."))
    return number


def _to_date(value: Any) -> dt.date | None:
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]00:00(:00)?", text):
        text = text[:10]  # a date a spreadsheet program turned into a date-time
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise CellProblem(
        _("“%(value)s” is not a date; write DD.MM.YYYY or YYYY-MM-DD.") % {"value": text}
    )


def _to_bool(value: Any) -> bool | None:
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = cell_text(value).casefold()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise CellProblem(_("“%(value)s” is not “ja” or “nein”.") % {"value": cell_text(value)})


def _split(value: Any) -> list[str]:
    return [part.strip() for part in cell_text(value).split(";") if part.strip()]


def _convert(column: Column, value: Any, lookups: _Lookups) -> Any:
    """The model value of one cell; a blank cell gives the field's empty value."""
    kind = column.kind
    if kind == "text":
        return cell_text(value)
    if kind == "int":
        return cell_int(value)
    if kind == "date":
        return _to_date(value)
    if kind == "bool":
        return _to_bool(value)
    if kind == "choice":
        assert column.choices is not None
        text = cell_text(value)
        if not text:
            return ""
        code = lookups.choice_map(column.choices).get(text.casefold())
        if code is None:
            raise CellProblem(
                _("Unknown value “%(value)s”. Allowed are the codes %(codes)s or their names.")
                % {"value": text, "codes": ", ".join(c for c in column.choices.values if c)}
            )
        return code
    if kind == "codes":
        assert column.choices is not None
        mapping = lookups.choice_map(column.choices)
        given = _split(value)
        unknown = [part for part in given if part.casefold() not in mapping]
        if unknown:
            raise CellProblem(
                _("Unknown codes: %(codes)s. Separate several codes with “;”.")
                % {"codes": ", ".join(f"“{u}”" for u in unknown)}
            )
        found = {mapping[part.casefold()] for part in given}
        return [code for code in column.choices.values if code in found]
    if kind == "need_types":
        given = _split(value)
        unknown = [part for part in given if part.casefold() not in lookups.need_types]
        if unknown:
            raise CellProblem(
                _("Unknown need types: %(codes)s. Use the codes of the need type list.")
                % {"codes": ", ".join(f"“{u}”" for u in unknown)}
            )
        needs = {lookups.need_types[part.casefold()] for part in given}
        return sorted(needs, key=lambda n: n.code)
    if kind == "provider":
        text = cell_text(value)
        if not text:
            return None
        org = lookups.providers.get(text.casefold())
        if org is None:
            raise CellProblem(
                _("Unknown provider “%(value)s”: write the organisation's name as in lotse.")
                % {"value": text}
            )
        if not org.is_active:
            raise CellProblem(
                _("The organisation “%(value)s” is no longer active.") % {"value": org.name}
            )
        return org
    if kind == "district":
        text = cell_text(value)
        if not text:
            return None
        district = lookups.districts.get(text.casefold())
        if district is None:
            raise CellProblem(_("Unknown district “%(value)s”.") % {"value": text})
        return district
    raise AssertionError(kind)  # pragma: no cover


def _stored(offer: Offer, name: str) -> Any:
    if name == "provider":
        return offer.provider
    if name == "district":
        return offer.district
    return getattr(offer, name)


def _default(name: str) -> Any:
    model_field = Offer._meta.get_field(name)
    return model_field.get_default()  # type: ignore[union-attr]


def _can_edit(actor: Membership, org: Organisation) -> bool:
    return offer_can_edit(actor=actor, provider_id=org.pk)


def _not_allowed(actor: Membership, org: Organisation) -> str:
    if actor.has_perm(Perm.OFFER_EDIT):
        return _(
            "You may only import offers of your own organisation (“%(own)s”), not of "
            "“%(provider)s”."
        ) % {"own": actor.organisation, "provider": org}
    return _("You may not edit offers.")


# The fields each service rule compares (offers.services.rule_errors).
RULE_FIELDS = {
    "capacity": {"capacity", "occupied"},
    "ends_on": {"starts_on", "ends_on"},
    "age_max": {"age_min", "age_max"},
    "review_due": {"review_due"},
}


def validate_rows(rows: Rows, actor: Membership, *, today: dt.date | None = None) -> Preview:
    """Every row as offer values, or with messages naming row and column."""
    today = today or timezone.localdate()
    lookups = _Lookups(rows)
    seen_ids: dict[int, int] = {}
    results = [_validate_row(row, actor, lookups, seen_ids, today) for row in rows]
    return Preview(rows=results, source=rows, ignored_columns=rows.ignored_columns)


def _validate_row(
    row: Row, actor: Membership, lookups: _Lookups, seen_ids: dict[int, int], today: dt.date
) -> RowResult:
    result = RowResult(number=row.number)
    failed: set[str] = set()

    def error(header: str, message: str) -> None:
        result.errors.append(CellMessage(row.number, header, message))
        failed.add(BY_HEADER[header].field)

    offer: Offer | None = None
    raw_id = row.values.get("ID")
    if not is_blank(raw_id):
        try:
            offer_id = cell_int(raw_id)
        except CellProblem:
            offer_id = None
        if offer_id is None:
            error("ID", _("“%(value)s” is not an offer ID.") % {"value": cell_text(raw_id)})
        elif offer_id in seen_ids:
            error(
                "ID",
                _("The offer %(id)s appears twice in the file (also in row %(row)s).")
                % {"id": offer_id, "row": seen_ids[offer_id]},
            )
        else:
            seen_ids[offer_id] = row.number
            offer = lookups.offers.get(offer_id)
            if offer is None:
                error("ID", _("There is no offer with the ID %(id)s.") % {"id": offer_id})
            else:
                result.offer_id = offer.pk
                if not _can_edit(actor, offer.provider):
                    error("ID", _not_allowed(actor, offer.provider))
    is_new = "id" not in failed and offer is None

    parsed: dict[str, Any] = {}
    for column in COLUMNS[1:]:
        if column.header not in row.values:
            continue
        try:
            parsed[column.field] = _convert(column, row.values[column.header], lookups)
        except CellProblem as problem:
            error(column.header, problem.message)
    for column in COLUMNS:
        if not column.required or column.field in failed:
            continue
        if column.header not in row.values:
            if is_new:
                error(column.header, _("The column is missing; a new offer needs it."))
        elif parsed.get(column.field) in (None, ""):
            error(column.header, _("This field is required."))

    # The offer as it will be: stored (or default) values, overridden by the file.
    merged: dict[str, Any] = {}
    for column in COLUMNS[1:]:
        name = column.field
        if name == "need_types":
            stored: Any = list(offer.need_types.all()) if offer else []
        else:
            stored = _stored(offer, name) if offer else _default(name)
            if name in {"provider", "district"} and not offer:
                stored = None
        value = parsed.get(name, stored) if name not in failed else stored
        if column.kind == "bool" and value is None:
            value = stored
        merged[name] = value
    if offer is not None:
        # Places taken follow the participations; the file does not change them.
        if "occupied" in parsed and parsed["occupied"] not in (None, offer.occupied):
            result.notes.append(
                CellMessage(
                    row.number,
                    "Belegt",
                    _("Stays at %(n)s: places taken follow the participations.")
                    % {"n": offer.occupied},
                )
            )
        merged["occupied"] = offer.occupied
    elif merged["occupied"] is None:
        merged["occupied"] = 0

    provider = merged["provider"]
    if (
        provider is not None
        and "provider" not in failed
        and (offer is None or provider.pk != offer.provider_id)
        and not _can_edit(actor, provider)
    ):
        error("Träger", _not_allowed(actor, provider))

    instance = Offer(
        **{
            name: value
            for name, value in merged.items()
            if name not in {"need_types", "provider", "district"}
        }
    )
    # Rules across fields: the offer services' own, skipped where a field they compare
    # could not be read.
    for name, messages in services.rule_errors(
        instance,
        occupied=merged["occupied"],
        previous_review_due=offer.review_due if offer is not None else None,
        today=today,
    ).items():
        if not RULE_FIELDS[name] & failed:
            for message in messages:
                error(BY_FIELD[name].header, message)
    # The model's own field rules (lengths, e-mail, ranges) on what is left.
    exclude = {"provider", "district", "updated_by", "search_text", *failed}
    try:
        instance.clean_fields(exclude=exclude)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            target = BY_FIELD.get(name)
            for message in messages:
                if target is not None:
                    error(target.header, message)
                else:  # pragma: no cover - every editable field has a column
                    result.errors.append(CellMessage(row.number, "", message))

    result.title = cell_text(merged["title"])
    result.provider_name = provider.name if provider else ""
    if result.errors:
        result.action = ERROR
        return result
    editable = [name for name in services.EDITABLE_FIELDS if name in merged]
    if offer is None:
        result.action = NEW
        result.values = {name: merged[name] for name in editable}
        result.need_types = merged["need_types"]
        result.is_active = merged["is_active"]
        result.occupied = merged["occupied"]
        return result
    result.action = UPDATE
    for column in COLUMNS[1:]:
        name = column.field
        if column.header not in row.values or name == "occupied":
            continue
        if name == "need_types":
            before = {n.pk for n in offer.need_types.all()}
            if before != {n.pk for n in merged[name]}:
                result.need_types = merged[name]
                result.changed.append(column.header)
        elif merged[name] != _stored(offer, name):
            result.changed.append(column.header)
            if name == "is_active":
                result.is_active = merged[name]
            else:
                result.values[name] = merged[name]
    return result


# --- writing ----------------------------------------------------------------------------


class ImportRejected(Exception):
    """Validation inside the transaction found errors: nothing was written."""

    def __init__(self, preview: Preview) -> None:
        super().__init__("import rejected")
        self.preview = preview


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def apply(preview: Preview, actor: Membership) -> ImportResult:
    """Create and update the offers of ``preview`` in one transaction, all or nothing.

    The rows are validated again inside the transaction (the catalogue may have changed
    since the preview); any error raises :class:`ImportRejected` and nothing is written.
    """
    with transaction.atomic():
        ids = [r.offer_id for r in preview.rows if r.offer_id]
        # Keep the offers to update as they are until the end (no-op on SQLite, whose
        # write transaction locks the database).
        list(Offer.objects.select_for_update().filter(pk__in=ids).values_list("pk", flat=True))
        fresh = validate_rows(preview.source, actor)
        if fresh.has_errors:
            raise ImportRejected(fresh)
        stored = {o.pk: o for o in Offer.objects.filter(pk__in=ids).select_related("provider")}
        created = updated = unchanged = 0
        for row in fresh.rows:
            try:
                if row.action == NEW:
                    _create(row, actor)
                    created += 1
                elif row.changed:
                    assert row.offer_id is not None
                    _update(row, stored[row.offer_id], actor)
                    updated += 1
                else:
                    unchanged += 1
            except ValidationError as exc:
                raise ImportRejected(_with_service_errors(fresh, row, exc)) from exc
            except PermissionDenied as exc:
                message = _("You may not edit offers of this provider.")
                raise ImportRejected(
                    _with_messages(fresh, row, [CellMessage(row.number, "Träger", message)])
                ) from exc
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def _create(row: RowResult, actor: Membership) -> Offer:
    offer = services.offer_create(actor=actor, need_types=row.need_types or (), **row.values)
    if row.occupied:
        # An offer taken over from the municipality's list starts with its participants;
        # from then on the participations keep the count.
        Offer.objects.filter(pk=offer.pk).update(occupied=row.occupied)
    if row.is_active is False:
        services.offer_deactivate(actor=actor, offer=offer)
    return offer


def _update(row: RowResult, offer: Offer, actor: Membership) -> Offer:
    if row.values or row.need_types is not None:
        offer = services.offer_update(
            actor=actor, offer=offer, need_types=row.need_types, **row.values
        )
    if row.is_active is True:
        services.offer_reactivate(actor=actor, offer=offer)
    elif row.is_active is False:
        services.offer_deactivate(actor=actor, offer=offer)
    return offer


def _with_messages(preview: Preview, row: RowResult, messages: Iterable[CellMessage]) -> Preview:
    row.errors.extend(messages)
    row.action = ERROR
    return preview


def _with_service_errors(preview: Preview, row: RowResult, exc: ValidationError) -> Preview:
    messages = []
    if hasattr(exc, "error_dict"):
        for name, texts in exc.message_dict.items():
            column = BY_FIELD.get(name)
            header = column.header if column else ""
            messages += [CellMessage(row.number, header, text) for text in texts]
    else:
        messages += [CellMessage(row.number, "", text) for text in exc.messages]
    return _with_messages(preview, row, messages)


def export_filename(fmt: str, today: dt.date | None = None) -> str:
    return f"angebote-{(today or timezone.localdate()).isoformat()}.{fmt}"


Exporter = Callable[[QuerySet[Offer]], bytes]
EXPORTERS: dict[str, tuple[Exporter, str]] = {
    "csv": (export_csv, CSV_CONTENT_TYPE),
    "xlsx": (export_xlsx, XLSX_CONTENT_TYPE),
}
