"""Import of the authorities' aggregate lists (issue #7): CSV and XLSX, codes folded into
status groups and summed, one message per problem naming row and column, all or
nothing, permissions, and the newest list for the coverage."""

from __future__ import annotations

import datetime as dt
import io

import polars as pl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook

from lotse.analytics import population
from lotse.analytics.models import PopulationCount, PopulationList
from lotse.core.models import District

from ..conftest import login

DAY = dt.date(2025, 6, 30)
ROLES_WITHOUT_MANAGE = [
    "case_manager",
    "team_lead",
    "partner_staff",
    "outsider",
    "coordinator",
    "volunteer",
    "org_admin",
    "sysadmin",
]
ROLES_WITHOUT_VIEW = [r for r in ROLES_WITHOUT_MANAGE if r not in ("coordinator", "team_lead")]


@pytest.fixture(autouse=True)
def english(settings):
    """The tests assert the English source messages (German: see the test of its own)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def districts(db):
    return {
        "nord": District.objects.create(code="nord", name="Nordstadt"),
        "sued": District.objects.create(code="sued", name="Südstadt"),
    }


def csv_bytes(rows, headers=("Status", "Alter", "Bezirk", "Anzahl"), delimiter=";") -> bytes:
    lines = [delimiter.join(headers), *(delimiter.join(str(c) for c in row) for row in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def xlsx_bytes(rows, headers=("Status", "Alter", "Bezirk", "Anzahl")) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def run_import(actor, data: bytes, filename="liste.csv", **overrides) -> PopulationList:
    values = {"source": "Ausländerbehörde Kreis X", "reference_date": DAY, "note": ""}
    values.update(overrides)
    return population.population_list_import(actor=actor, file=data, filename=filename, **values)


def stored(population_list: PopulationList) -> dict[tuple[str, str, str], int]:
    return {
        (c.status_group, c.age_band, c.district.name if c.district else ""): c.count
        for c in population_list.counts.select_related("district")
    }


def written() -> tuple[int, int]:
    return PopulationList.objects.count(), PopulationCount.objects.count()


def rejected(actor, data: bytes, filename="liste.csv") -> list[str]:
    before = written()
    with pytest.raises(ValidationError) as info:
        run_import(actor, data, filename)
    assert written() == before, "nothing may be written"
    return info.value.messages


# --- reading and folding ------------------------------------------------------------------


def test_csv_status_codes_fold_into_groups_and_sum(world, districts):
    data = csv_bytes(
        [
            ("duldung", "18_20", "Nordstadt", "5"),
            ("ausbildungsduldung", "18–20", "nordstadt", "3"),  # same group, band, district
            ("Tolerated", "19", "NORDSTADT", "2"),  # a group code and a single age
            ("gestattung", "18 - 20", "", "4"),
            ("ae_25_2_gfk", "unter 18", "Südstadt", "7"),
            ("geduldet / ausreisepflichtig", "45+", "", "1"),  # the group's German label
            ("", "45 und älter", "", "6"),
            ("", "", "", "1.234"),  # the municipality's total, German thousands grouping
        ]
    )
    imported = run_import(world.analyst, data, note="  Stand Juni  ")
    assert stored(imported) == {
        ("tolerated", "18_20", "Nordstadt"): 10,
        ("asylum", "18_20", ""): 4,
        ("protection", "under_18", "Südstadt"): 7,
        ("tolerated", "45_plus", ""): 1,
        ("", "45_plus", ""): 6,
        ("", "", ""): 1234,
    }
    assert imported.organisation == world.lead
    assert imported.imported_by == world.analyst.user
    assert imported.file_name == "liste.csv"
    assert imported.note == "Stand Juni"
    assert imported.reference_date == DAY


def test_xlsx_with_number_cells_other_columns_and_any_header_case(world, districts):
    data = xlsx_bytes(
        [
            ("Kreis X", "duldung", 19, "Nordstadt", 3),
            ("Kreis X", "beschaeftigungsduldung", 20, "Nordstadt", 4.0),
            ("Kreis X", "ae_24", "25-27", None, 11),
            (None, None, None, None, None),  # empty rows are skipped
            ("Kreis X", None, "gesamt", "alle", 30),
        ],
        headers=("Kreis", "AUFENTHALTSSTATUS", "alter", " Stadtteil ", "Anzahl"),
    )
    imported = run_import(world.analyst, data, filename="ABH-Liste.XLSX")
    assert stored(imported) == {
        ("tolerated", "18_20", "Nordstadt"): 7,
        ("protection", "25_27", ""): 11,
        ("", "", ""): 30,
    }


def test_comma_separated_csv_without_bom_and_only_the_count(world):
    data = b"Anzahl,Bemerkung\r\n17,alle zusammen\r\n"
    imported = run_import(world.analyst, data)
    assert stored(imported) == {("", "", ""): 17}


# --- bad input: a message naming row and column, nothing written ----------------------------

ROW_ERRORS = [
    ("unknown status", ("fluechtling", "18_20", "", "1"), "Status", "“fluechtling”"),
    ("age spanning bands", ("duldung", "17–30", "", "1"), "Alter", "“17–30” is not an age band"),
    ("age band code unknown", ("duldung", "18_27", "", "1"), "Alter", "“18_27”"),
    ("under another age", ("duldung", "unter 21", "", "1"), "Alter", "“unter 21”"),
    ("unknown district", ("duldung", "18_20", "Atlantis", "1"), "Bezirk", "“Atlantis”"),
    ("negative count", ("duldung", "18_20", "", "-3"), "Anzahl", "cannot be negative"),
    ("decimal count", ("duldung", "18_20", "", "3,5"), "Anzahl", "not a whole number"),
    ("text count", ("duldung", "18_20", "", "viele"), "Anzahl", "not a whole number"),
    ("empty count", ("duldung", "18_20", "", ""), "Anzahl", "This field is required."),
]


@pytest.mark.parametrize(
    ("row", "column", "fragment"), [c[1:] for c in ROW_ERRORS], ids=[c[0] for c in ROW_ERRORS]
)
def test_each_problem_names_row_and_column_and_nothing_is_written(
    world, districts, row, column, fragment
):
    data = csv_bytes([("duldung", "18_20", "Nordstadt", "5"), row])
    messages = rejected(world.analyst, data)
    assert len(messages) == 1, messages
    assert messages[0].startswith(f"Row 3, column “{column}”: "), messages
    assert fragment in messages[0]


def test_messages_list_what_is_allowed(world, districts):
    data = csv_bytes([("x", "17–30", "Atlantis", "1")])
    status, age, district = rejected(world.analyst, data)
    assert "“duldung”" in status and "“tolerated”" in status
    assert "18–20" in age and "under 18" in age and "45 and older" in age
    assert "Nordstadt" in district and "Südstadt" in district


def test_every_problem_of_a_file_is_reported(world):
    data = xlsx_bytes([("duldung", 19.5, None, 1), ("duldung", 19, None, 2), ("?", 30, None, -1)])
    messages = rejected(world.analyst, data, "liste.xlsx")
    assert [m.split(":")[0] for m in messages] == [
        "Row 2, column “Alter”",
        "Row 4, column “Status”",
        "Row 4, column “Anzahl”",
    ]


def test_many_problems_are_cut_short(world):
    data = csv_bytes([("", "", "", "x")] * (population.MAX_MESSAGES + 5))
    messages = rejected(world.analyst, data)
    assert len(messages) == population.MAX_MESSAGES + 1
    assert messages[-1] == "… and 5 more problems."


def test_counts_adding_up_beyond_any_municipality_are_rejected(world):
    half = population.MAX_COUNT // 2 + 1
    messages = rejected(world.analyst, csv_bytes([("", "", "", half), ("", "", "", half)]))
    assert messages[0].startswith("Row 3, column “Anzahl”: The counts for this status")


FILE_ERRORS = [
    (
        "missing Anzahl",
        csv_bytes([("duldung", "19", "", "")], headers=("Status", "Alter", "Bezirk", "Zahl")),
        "liste.csv",
        "The first row has no column “Anzahl”.",
    ),
    ("empty file", b"", "liste.csv", "The file is empty."),
    ("blank lines only", b"\r\n ; ;\r\n", "liste.csv", "The file is empty."),
    ("headers only", csv_bytes([]), "liste.csv", "The file has column headers but no counts."),
    (
        "twice the same column",
        csv_bytes([("1", "2")], headers=("Anzahl", "anzahl")),
        "liste.csv",
        "The column “Anzahl” appears twice in the first row.",
    ),
    ("not a workbook", b"Anzahl\n1\n", "liste.xlsx", "The file is not a readable XLSX workbook."),
    ("other file type", b"%PDF-1.4", "liste.pdf", "Only .xlsx and .csv files can be imported."),
]


@pytest.mark.parametrize(
    ("data", "filename", "start"), [c[1:] for c in FILE_ERRORS], ids=[c[0] for c in FILE_ERRORS]
)
def test_unreadable_files_are_rejected_with_one_message(world, data, filename, start):
    messages = rejected(world.analyst, data, filename)
    assert len(messages) == 1
    assert messages[0].startswith(start), messages


def test_the_source_is_required(world):
    before = written()
    with pytest.raises(ValidationError) as info:
        run_import(world.analyst, csv_bytes([("", "", "", "1")]), source="  ")
    assert "source" in info.value.message_dict
    assert written() == before


def test_messages_in_german(world, districts):
    with translation.override("de"):
        messages = rejected(
            world.analyst, csv_bytes([("", "", "", "1"), ("", "", "Atlantis", "-1")])
        )
    assert messages[0].startswith("Zeile 3, Spalte „Bezirk“: ")
    assert messages[1] == "Zeile 3, Spalte „Anzahl“: Die Zahl darf nicht negativ sein."


def test_a_failing_write_leaves_nothing(world, monkeypatch):
    def fail(*args, **kwargs):
        raise IntegrityError("simulated")

    monkeypatch.setattr(PopulationCount.objects, "bulk_create", fail)
    before = written()
    with pytest.raises(IntegrityError):
        run_import(world.analyst, csv_bytes([("", "", "", "1")]))
    assert written() == before


def test_one_count_per_status_age_and_district_also_for_the_whole_municipality(world):
    imported = run_import(world.analyst, csv_bytes([("", "", "", "1")]))
    with pytest.raises(IntegrityError), transaction.atomic():
        PopulationCount.objects.create(population_list=imported, count=2)  # district NULL
    with pytest.raises(IntegrityError), transaction.atomic():
        PopulationCount.objects.create(population_list=imported, age_band="18_20", count=-1)


# --- permissions --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES_WITHOUT_MANAGE)
def test_only_analytics_managers_import_and_delete(world, role):
    actor = world.by_role()[role]
    with pytest.raises(PermissionDenied):
        run_import(actor, csv_bytes([("", "", "", "1")]))
    imported = run_import(world.analyst, csv_bytes([("", "", "", "1")]))
    with pytest.raises(PermissionDenied):
        population.population_list_delete(actor=actor, population_list=imported)
    population.population_list_delete(actor=world.analyst, population_list=imported)
    assert written() == (0, 0)


@pytest.mark.parametrize("role", ROLES_WITHOUT_VIEW)
def test_pages_are_forbidden_without_analytics_view(client, world, role):
    login(client, world.by_role()[role])
    assert client.get(reverse("analytics:population_list")).status_code == 403


@pytest.mark.parametrize("role", ROLES_WITHOUT_MANAGE)
def test_import_and_delete_pages_are_forbidden_without_analytics_manage(client, world, role):
    imported = run_import(world.analyst, csv_bytes([("", "", "", "1")]))
    login(client, world.by_role()[role])
    assert client.get(reverse("analytics:population_import")).status_code == 403
    upload = SimpleUploadedFile("liste.csv", csv_bytes([("", "", "", "2")]))
    response = client.post(
        reverse("analytics:population_import"),
        {"source": "ABH", "reference_date": "2025-06-30", "file": upload},
    )
    assert response.status_code == 403
    delete_url = reverse("analytics:population_delete", args=[imported.pk])
    assert client.post(delete_url).status_code == 403
    assert written() == (1, 1)


def test_anonymous_users_are_sent_to_the_login(client, db):
    response = client.get(reverse("analytics:population_list"))
    assert response.status_code == 302 and "login" in response["Location"]


# --- pages --------------------------------------------------------------------------------


def test_list_page_shows_lists_newest_first_with_totals(client, world, districts):
    run_import(world.analyst, csv_bytes([("duldung", "19", "", "3"), ("ae_24", "30", "", "4")]))
    run_import(
        world.analyst,
        csv_bytes([("", "", "", "50"), ("duldung", "", "", "20"), ("", "19", "", "9")]),
        source="Statistikamt",
        reference_date=DAY + dt.timedelta(days=1),
    )
    login(client, world.coordinator)
    response = client.get(reverse("analytics:population_list"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.index("Statistikamt") < html.index("Ausländerbehörde Kreis X")
    assert html.count("<h1") == 1 and 'scope="col"' in html and 'scope="row"' in html
    newer, older = response.context["summaries"]
    assert (newer.row_count, newer.total) == (3, 50)  # the grand total, not 79
    assert (older.row_count, older.total) == (2, 7)
    # Coordinators see the lists but may not change them.
    assert reverse("analytics:population_import") not in html
    assert "population-delete-" not in html

    login(client, world.analyst)
    html = client.get(reverse("analytics:population_list")).content.decode()
    assert reverse("analytics:population_import") in html
    assert reverse("analytics:population_delete", args=[newer.population_list.pk]) in html


def test_list_page_without_lists(client, world):
    login(client, world.analyst)
    response = client.get(reverse("analytics:population_list"))
    assert response.status_code == 200
    assert 'id="population-empty"' in response.content.decode()


def test_import_page_imports_and_redirects_with_a_message(client, world, districts):
    login(client, world.analyst)
    url = reverse("analytics:population_import")
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for name in ("source", "reference_date", "note", "file"):
        assert f'for="id_{name}"' in html
    upload = SimpleUploadedFile(
        "abh.xlsx", xlsx_bytes([("duldung", 19, "Nordstadt", 2), ("duldung", 20, "nordstadt", 3)])
    )
    response = client.post(
        url,
        {"source": "ABH Kreis X", "reference_date": "2025-06-30", "note": "", "file": upload},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("analytics:population_list"), 302)]
    imported = PopulationList.objects.get()
    assert stored(imported) == {("tolerated", "18_20", "Nordstadt"): 5}
    assert imported.file_name == "abh.xlsx"
    assert [str(m) for m in response.context["messages"]] == [
        "The list “ABH Kreis X (30.06.2025)” was imported."
    ]


def test_import_page_lists_the_problems_and_keeps_the_form(client, world):
    login(client, world.analyst)
    upload = SimpleUploadedFile(
        "liste.csv", csv_bytes([("", "", "Atlantis", "1"), ("", "x", "", "-1")])
    )
    response = client.post(
        reverse("analytics:population_import"),
        {"source": "ABH Kreis X", "reference_date": "2025-06-30", "file": upload},
    )
    assert response.status_code == 422
    assert written() == (0, 0)
    html = response.content.decode()
    assert 'id="population-import-errors"' in html and 'role="alert"' in html
    assert html.count("<li>Row ") == 3
    assert "<li>Row 2, column “Bezirk”: There is no district “Atlantis”." in html
    assert 'value="ABH Kreis X"' in html  # the entries stay


def test_import_page_puts_form_errors_at_the_fields(client, world):
    login(client, world.analyst)
    response = client.post(reverse("analytics:population_import"), {"reference_date": "30.13.2025"})
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"source", "reference_date", "file"}
    assert 'id="id_source_error"' in response.content.decode()
    assert written() == (0, 0)


def test_import_page_reports_an_unreadable_file(client, world):
    login(client, world.analyst)
    upload = SimpleUploadedFile("liste.csv", csv_bytes([("1",)], headers=("Personen",)))
    response = client.post(
        reverse("analytics:population_import"),
        {"source": "ABH", "reference_date": "2025-06-30", "file": upload},
    )
    assert response.status_code == 422
    assert "<li>The first row has no column “Anzahl”." in response.content.decode()


def test_delete_takes_post_only(client, world):
    imported = run_import(world.analyst, csv_bytes([("", "", "", "1")]))
    login(client, world.analyst)
    url = reverse("analytics:population_delete", args=[imported.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(reverse("analytics:population_list"), 302)]
    assert written() == (0, 0)
    assert client.post(url).status_code == 404


# --- the newest list ----------------------------------------------------------------------


def test_population_latest_picks_the_newest_list_on_or_before_the_day(world, districts):
    nothing, empty = population.population_latest()
    assert nothing is None
    assert empty.is_empty() and empty.schema == pl.Schema(population.COUNT_SCHEMA)

    old = run_import(world.analyst, csv_bytes([("", "", "", "10")]), reference_date=DAY)
    new = run_import(
        world.analyst,
        csv_bytes([("duldung", "19", "Nordstadt", "4"), ("", "", "", "20")]),
        reference_date=DAY + dt.timedelta(days=90),
    )
    # Imported later but with an older reference date: not the newest.
    run_import(
        world.analyst, csv_bytes([("", "", "", "5")]), reference_date=DAY - dt.timedelta(days=1)
    )

    latest, frame = population.population_latest()
    assert latest == new
    assert frame.schema == pl.Schema(population.COUNT_SCHEMA)
    assert frame.to_dicts() == [
        {"status_group": "", "age_band": "", "district": "", "count": 20},
        {"status_group": "tolerated", "age_band": "18_20", "district": "Nordstadt", "count": 4},
    ]
    assert population.population_latest(on=DAY + dt.timedelta(days=89))[0] == old
    assert population.population_latest(on=DAY + dt.timedelta(days=90))[0] == new
    latest, frame = population.population_latest(on=DAY - dt.timedelta(days=2))
    assert latest is None and frame.is_empty()


def test_of_two_lists_on_the_same_day_the_later_import_counts(world):
    run_import(world.analyst, csv_bytes([("", "", "", "10")]))
    corrected = run_import(world.analyst, csv_bytes([("", "", "", "11")]))
    latest, frame = population.population_latest(on=DAY)
    assert latest == corrected and frame["count"].to_list() == [11]
