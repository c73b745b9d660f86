"""Export of the catalogue to XLSX/CSV and import with preview and per-row errors,
all or nothing (issue #5)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from lotse.core.models import District, NeedType
from lotse.offers import io as offer_io
from lotse.offers import services
from lotse.offers.models import Offer
from lotse.offers.views_io import SESSION_KEY

from ..conftest import login
from ..factories import MembershipFactory, OfferFactory, OrganisationFactory

TODAY = timezone.localdate()
SOON = TODAY + dt.timedelta(days=90)
LIST_URL = "/offers/"


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return tmp_path / "offer-imports"


@pytest.fixture
def offers(world):
    """Offers with every column filled in some way, including text a spreadsheet would
    take for a formula."""
    nord = District.objects.create(code="nord", name="Nordstadt")
    b1, b2 = NeedType.objects.get(code="deutsch_b1"), NeedType.objects.get(code="deutsch_b2")
    full = OfferFactory(
        provider=world.lead,
        title="Integrationskurs Nord",
        description="Vormittags.\nMit Orientierungskurs; Kinder willkommen.",
        field_of_action="language",
        category="integrationskurs",
        level="B1",
        statuses=["gestattung", "duldung"],
        age_min=18,
        age_max=27,
        german_min="A1",
        prerequisites="=SUMME(A1)",
        district=nord,
        address="Hauptstraße 1, 12345 Lotsenstadt",
        starts_on=TODAY + dt.timedelta(days=10),
        ends_on=TODAY + dt.timedelta(days=200),
        rolling_entry=True,
        schedule="Mo–Fr 9–12 Uhr",
        capacity=20,
        occupied=7,
        languages=["de", "ar"],
        funding="bamf",
        cost_note="-",
        contact_name="Frau Beispiel",
        contact_email="kurs@example.org",
        contact_phone="+49 123 4567",
        childcare=True,
        review_due=SOON,
        need_types=[b1, b2],
    )
    plain = OfferFactory(
        provider=world.partner,
        title="Bewerbungstraining",
        field_of_action="work",
        category="berufsorientierung",
        funding="jobcenter",
        review_due=SOON,
    )
    inactive = OfferFactory(
        provider=world.partner, title="Altes Angebot", is_active=False, review_due=SOON
    )
    return [full, plain, inactive]


def snapshot(offer: Offer) -> dict:
    offer.refresh_from_db()
    skip = {"id", "created_at", "updated_at", "updated_by_id"}
    data = {f.attname: getattr(offer, f.attname) for f in Offer._meta.concrete_fields}
    data = {k: v for k, v in data.items() if k not in skip}
    data["need_types"] = sorted(offer.need_types.values_list("code", flat=True))
    return data


def csv_bytes(rows, headers=None, delimiter=";", encoding="utf-8-sig") -> bytes:
    headers = headers or offer_io.HEADERS
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headers)
    for row in rows:
        writer.writerow([row.get(h, "") for h in headers])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, headers=None) -> bytes:
    headers = headers or offer_io.HEADERS
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(headers)
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def valid(**overrides) -> dict:
    row = {
        "Titel": "Sprachcafé",
        "Träger": "KI Lotsenstadt",
        "Handlungsfeld": "language",
        "Kategorie": "sprachkurs",
        "Finanzierung": "free",
        "Prüfen bis": SOON.strftime("%d.%m.%Y"),
    }
    row.update(overrides)
    return row


def preview_of(data: bytes, actor, filename="angebote.csv") -> offer_io.Preview:
    return offer_io.validate_rows(offer_io.parse_upload(data, filename), actor)


def export(fmt: str) -> bytes:
    qs = Offer.objects.all()
    return offer_io.export_csv(qs) if fmt == "csv" else offer_io.export_xlsx(qs)


# --- round trip -------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_as_updates_changes_nothing(world, offers, fmt):
    before = {o.pk: snapshot(o) for o in offers}
    preview = preview_of(export(fmt), world.coordinator, f"angebote.{fmt}")
    assert not preview.has_errors, [str(e) for e in preview.errors]
    assert [r.action for r in preview.rows] == ["update"] * 3
    assert preview.unchanged_count == 3 and preview.write_count == 0
    result = offer_io.apply(preview, world.coordinator)
    assert result == offer_io.ImportResult(created=0, updated=0, unchanged=3)
    assert {o.pk: snapshot(o) for o in offers} == before


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_round_trip_as_new_offers_copies_every_field(world, offers, fmt):
    rows = offer_io.parse_upload(export(fmt), f"angebote.{fmt}")
    for row in rows:
        row.values["ID"] = None
    preview = offer_io.validate_rows(rows, world.coordinator)
    assert not preview.has_errors, [str(e) for e in preview.errors]
    assert preview.new_count == 3
    result = offer_io.apply(preview, world.coordinator)
    assert result.created == 3
    for original in offers:
        copy = Offer.objects.exclude(pk=original.pk).get(title=original.title)
        assert snapshot(copy) == snapshot(original)
        assert copy.updated_by == world.coordinator.user
    assert Offer.objects.get(title="Integrationskurs Nord", pk__gt=offers[-1].pk).search_text


def test_csv_export_is_german_excel_csv_and_escapes_formulas(world, offers):
    data = export("csv")
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    header = text.splitlines()[0]
    assert header.split(";") == offer_io.HEADERS
    assert "'=SUMME(A1)" in text and "'+49 123 4567" in text and ";'-;" in text
    assert (offers[0].starts_on.strftime("%d.%m.%Y")) in text
    assert "deutsch_b1;deutsch_b2" in text and ";ja;" in text


def test_xlsx_export_has_bold_frozen_header_widths_and_no_formulas(world, offers):
    workbook = load_workbook(io.BytesIO(export("xlsx")))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == offer_io.HEADERS
    assert all(c.font.bold for c in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["B"].width == 40
    row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "Integrationskurs Nord")
    by_header = dict(zip(offer_io.HEADERS, row, strict=True))
    assert by_header["Voraussetzungen"].data_type == "s"
    assert by_header["Voraussetzungen"].value == "=SUMME(A1)"
    assert by_header["Beginn"].is_date and by_header["Beginn"].number_format == "DD.MM.YYYY"
    assert by_header["Plätze"].value == 20


# --- export page ------------------------------------------------------------------------


def test_export_page_honours_the_catalogue_filters(client, world, offers):
    login(client, world.volunteer)  # everybody may read the catalogue
    url = reverse("offers:export")
    assert url == "/offers/export/"
    response = client.get(url, {"format": "csv", "category": "integrationskurs"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="angebote-{TODAY.isoformat()}.csv"'
    )
    body = response.content.decode("utf-8-sig")
    assert "Integrationskurs Nord" in body and "Bewerbungstraining" not in body

    response = client.get(url, {"format": "xlsx", "q": "bewerbung"})
    assert response["Content-Disposition"].endswith(f'angebote-{TODAY.isoformat()}.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    titles = [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert titles == ["Bewerbungstraining"]

    # Deactivated offers only for those who maintain offers, as on the catalogue page.
    response = client.get(url, {"format": "csv", "include_inactive": "on"})
    assert "Altes Angebot" not in response.content.decode("utf-8-sig")
    login(client, world.coordinator)
    response = client.get(url, {"format": "csv", "include_inactive": "on"})
    assert "Altes Angebot" in response.content.decode("utf-8-sig")
    # Invalid filter values are ignored; an unknown format is refused, not a 500.
    assert client.get(url, {"format": "csv", "age": "old"}).status_code == 200
    assert client.get(url, {"format": "pdf"}).status_code == 400


# --- validation: one message per problem, naming row and column ---------------------------

ERROR_CASES = [
    ("unknown provider", {"Träger": "Nirgendwo e.V."}, "Träger"),
    ("unknown category", {"Kategorie": "zauberkurs"}, "Kategorie"),
    ("unknown field of action", {"Handlungsfeld": "mond"}, "Handlungsfeld"),
    ("end before start", {"Beginn": "10.03.2027", "Ende": "01.03.2027"}, "Ende"),
    ("capacity below taken", {"Plätze": "3", "Belegt": "5"}, "Plätze"),
    ("unknown need type", {"Bedarfe": "deutsch_b1;fliegen"}, "Bedarfe"),
    ("unknown status", {"Aufenthaltsstatus": "duldung;marsmensch"}, "Aufenthaltsstatus"),
    ("unknown language", {"Unterrichtssprachen": "de;klingonisch"}, "Unterrichtssprachen"),
    ("bad date", {"Beginn": "31.02.2027"}, "Beginn"),
    ("bad date format", {"Ende": "nächste Woche"}, "Ende"),
    ("missing title", {"Titel": ""}, "Titel"),
    ("missing provider", {"Träger": ""}, "Träger"),
    ("missing funding", {"Finanzierung": ""}, "Finanzierung"),
    ("missing review date", {"Prüfen bis": ""}, "Prüfen bis"),
    ("review date in the past", {"Prüfen bis": "01.01.2020"}, "Prüfen bis"),
    ("unknown ID", {"ID": "999999"}, "ID"),
    ("ID not a number", {"ID": "abc"}, "ID"),
    ("not a number", {"Plätze": "zwanzig"}, "Plätze"),
    ("negative number", {"Alter von": "-3"}, "Alter von"),
    ("age range", {"Alter von": "30", "Alter bis": "20"}, "Alter bis"),
    ("age too high", {"Alter bis": "120"}, "Alter bis"),
    ("no places", {"Plätze": "0"}, "Plätze"),
    ("not yes or no", {"Aktiv": "vielleicht"}, "Aktiv"),
    ("bad e-mail", {"E-Mail": "keine-adresse"}, "E-Mail"),
    ("unknown district", {"Stadtteil": "Atlantis"}, "Stadtteil"),
    ("unknown level", {"Niveau": "Z9"}, "Niveau"),
    ("title too long", {"Titel": "x" * 201}, "Titel"),
]


@pytest.mark.parametrize(
    ("overrides", "column"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_each_problem_names_row_and_column(world, overrides, column):
    data = csv_bytes([valid(Titel="Gute Zeile"), valid(**overrides)])
    preview = preview_of(data, world.coordinator)
    good, bad = preview.rows
    assert good.action == "new" and not good.errors
    assert bad.action == "error"
    assert [m.column for m in bad.errors] == [column], [str(m) for m in bad.errors]
    message = str(bad.errors[0])
    assert message.startswith(f"Row 3, column “{column}”: ")
    assert len(message) > len(f"Row 3, column “{column}”: ") + 5
    assert preview.has_errors and preview.error_count == 1


def test_new_offers_need_the_required_columns(world):
    headers = ["Titel", "Träger", "Handlungsfeld", "Kategorie", "Prüfen bis"]
    preview = preview_of(csv_bytes([valid()], headers=headers), world.coordinator)
    assert [str(m) for m in preview.errors] == [
        "Row 2, column “Finanzierung”: The column is missing; a new offer needs it."
    ]


def test_same_offer_twice_in_a_file_is_an_error(world, offers):
    data = csv_bytes([{"ID": offers[0].pk, "Plätze": "21"}, {"ID": offers[0].pk}], ["ID", "Plätze"])
    preview = preview_of(data, world.coordinator)
    assert preview.rows[0].action == "update"
    assert preview.rows[1].errors[0].column == "ID"
    assert "row 2" in preview.rows[1].errors[0].message


def test_names_labels_and_short_names_are_understood(world):
    District.objects.create(code="sued", name="Südstadt")
    row = valid(
        **{
            "Träger": "jc",  # the Jobcenter's short name
            "Handlungsfeld": "Language",
            "Kategorie": "Integration course",
            "Stadtteil": "Südstadt",
            "Bedarfe": "Deutsch B1; deutsch_a2",
            "Unterrichtssprachen": "AR;de",
            "Beginn": "2027-01-15",
            "Laufender Einstieg": "Ja",
            "Plätze": "12",
        }
    )
    preview = preview_of(csv_bytes([row]), world.coordinator)
    assert not preview.has_errors, [str(e) for e in preview.errors]
    values = preview.rows[0].values
    assert values["provider"] == world.partner
    assert values["category"] == "integrationskurs"
    assert values["district"].code == "sued"
    assert values["languages"] == ["de", "ar"]
    assert values["starts_on"] == dt.date(2027, 1, 15)
    assert values["rolling_entry"] is True and values["capacity"] == 12
    assert sorted(n.code for n in preview.rows[0].need_types) == ["deutsch_a2", "deutsch_b1"]


def test_a_file_with_some_columns_changes_only_those(world, offers):
    full = offers[0]
    before = snapshot(full)
    data = csv_bytes([{"ID": full.pk, "Plätze": "25", "Belegt": "9"}], ["ID", "Plätze", "Belegt"])
    preview = preview_of(data, world.coordinator)
    (row,) = preview.rows
    assert row.action == "update" and row.changed == ["Plätze"]
    # Places taken follow the participations: noted, not changed.
    assert [n.column for n in row.notes] == ["Belegt"]
    offer_io.apply(preview, world.coordinator)
    after = snapshot(full)
    assert after.pop("capacity") == 25
    before.pop("capacity")
    assert after == before


def test_ignored_columns_are_reported(world):
    data = csv_bytes([valid()], headers=[*valid(), "Bemerkung"])
    preview = preview_of(data, world.coordinator)
    assert preview.ignored_columns == ("Bemerkung",) and not preview.has_errors


# --- permissions ------------------------------------------------------------------------


def test_provider_staff_import_only_their_own_organisation(world, offers):
    staff = world.partner_staff  # Jobcenter
    rows = [
        valid(Titel="Eigenes", **{"Träger": "Jobcenter Lotsenstadt"}),
        valid(Titel="Fremdes", **{"Träger": "KI Lotsenstadt"}),
        {"ID": offers[0].pk, **valid(Titel="Übernommen")},  # an offer of the KI
        {"ID": offers[1].pk, **valid()},  # own offer given away to the KI
    ]
    preview = preview_of(csv_bytes(rows, headers=["ID", *valid()]), staff)
    own, foreign, taken, given = preview.rows
    assert own.action == "new"
    assert [(m.column, m.row) for m in foreign.errors] == [("Träger", 3)]
    assert "your own organisation" in foreign.errors[0].message
    assert [m.column for m in taken.errors] == ["ID"]
    assert [m.column for m in given.errors] == ["Träger"]
    with pytest.raises(offer_io.ImportRejected):
        offer_io.apply(preview, staff)
    assert not Offer.objects.filter(title="Eigenes").exists()


def test_coordinators_import_for_every_provider(world):
    rows = [valid(**{"Träger": "Jobcenter Lotsenstadt"}), valid(**{"Träger": "Ausländerbehörde"})]
    preview = preview_of(csv_bytes(rows), world.coordinator)
    assert not preview.has_errors
    assert offer_io.apply(preview, world.coordinator).created == 2


@pytest.mark.parametrize("role", ["volunteer", "analyst", "case_manager", "sysadmin"])
def test_import_pages_are_closed_without_offer_edit(client, world, role):
    login(client, world.by_role()[role])
    assert client.get(reverse("offers:import")).status_code == 403
    assert client.post(reverse("offers:import_confirm"), {"token": "x"}).status_code == 403


# --- atomicity --------------------------------------------------------------------------


def test_one_bad_row_writes_nothing(world, offers):
    rows = [
        {"ID": offers[0].pk, **valid(Titel="Neuer Titel")},
        valid(Titel="Neu"),
        valid(Titel="Kaputt", Kategorie="unbekannt"),
    ]
    preview = preview_of(csv_bytes(rows, headers=["ID", *valid()]), world.coordinator)
    with pytest.raises(offer_io.ImportRejected) as caught:
        offer_io.apply(preview, world.coordinator)
    assert caught.value.preview.error_count == 1
    assert Offer.objects.count() == 3
    assert Offer.objects.get(pk=offers[0].pk).title == "Integrationskurs Nord"


def test_a_database_error_while_writing_writes_nothing(world, offers, monkeypatch):
    rows = [{"ID": offers[0].pk, **valid(Titel="Neuer Titel")}, valid(Titel="A"), valid(Titel="B")]
    preview = preview_of(csv_bytes(rows, headers=["ID", *valid()]), world.coordinator)
    assert not preview.has_errors
    real_create = services.offer_create
    calls = []

    def failing_create(**kwargs):
        calls.append(kwargs["title"])
        if len(calls) == 2:
            raise IntegrityError("disk full")
        return real_create(**kwargs)

    monkeypatch.setattr(services, "offer_create", failing_create)
    with pytest.raises(IntegrityError):
        offer_io.apply(preview, world.coordinator)
    assert calls == ["A", "B"]
    assert Offer.objects.count() == 3
    assert Offer.objects.get(pk=offers[0].pk).title == "Integrationskurs Nord"


def test_apply_validates_again_before_writing(world, offers):
    rows = [{"ID": offers[1].pk, **valid(Titel="Neu betitelt")}, valid(Titel="Neu")]
    preview = preview_of(csv_bytes(rows, headers=["ID", *valid()]), world.coordinator)
    assert not preview.has_errors
    offers[1].delete()  # meanwhile
    with pytest.raises(offer_io.ImportRejected) as caught:
        offer_io.apply(preview, world.coordinator)
    assert [m.column for m in caught.value.preview.errors] == ["ID"]
    assert not Offer.objects.filter(title="Neu").exists()


# --- malformed files --------------------------------------------------------------------


def _zip_without_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


MALFORMED = [
    ("garbage xlsx", "angebote.xlsx", b"\x00\x01garbage" * 100, "not a readable XLSX"),
    ("zip without workbook", "angebote.xlsx", _zip_without_workbook(), "not a readable XLSX"),
    ("blank csv", "angebote.csv", b"  \r\n \r\n", "The file is empty."),
    ("binary csv", "angebote.csv", b"Titel;\x00\x00\xff\xfe\x01", "not a CSV text file"),
    ("xlsx named csv", "angebote.csv", xlsx_bytes([valid()]), "Excel workbook"),
    ("pdf", "angebote.pdf", b"%PDF-1.7 ...", "Only .xlsx and .csv"),
    ("old excel", "angebote.xls", b"\xd0\xcf\x11\xe0 old", "cannot be read"),
    ("no extension", "angebote", b"Titel;Kategorie\r\n", "Only .xlsx and .csv"),
    ("unknown headers", "angebote.csv", b"Name;Ort\r\nA;B\r\n", "none of the known column"),
    ("headers only", "angebote.csv", csv_bytes([]), "no offers"),
    ("duplicate header", "angebote.csv", b"Titel;Titel\r\nA;B\r\n", "appears twice"),
    ("broken quotes", "angebote.csv", b'Titel;Kategorie\r\n"A\x00;b\r\n', "not a CSV text"),
]


@pytest.mark.parametrize(
    ("filename", "data", "expected"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED]
)
def test_malformed_files_give_a_clear_message(client, world, filename, data, expected):
    with pytest.raises(offer_io.ImportFileError) as caught:
        offer_io.parse_upload(data, filename)
    assert expected in caught.value.message
    login(client, world.coordinator)
    response = client.post(reverse("offers:import"), {"file": _upload(data, filename)})
    assert response.status_code == 200
    assert expected in response.content.decode()
    assert SESSION_KEY not in client.session


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_empty_upload_is_refused_by_the_form(client, world):
    login(client, world.coordinator)
    response = client.post(reverse("offers:import"), {"file": _upload(b"", "angebote.csv")})
    assert response.status_code == 200
    assert 'id="id_file_error"' in response.content.decode()


def test_too_many_rows(client, world):
    data = csv_bytes([valid(Titel=f"Kurs {i}") for i in range(offer_io.MAX_ROWS + 1)])
    with pytest.raises(offer_io.ImportFileError, match="more than 5,000 rows"):
        offer_io.parse_upload(data, "angebote.csv")
    login(client, world.coordinator)
    response = client.post(reverse("offers:import"), {"file": _upload(data, "angebote.csv")})
    assert response.status_code == 200 and "more than 5,000 rows" in response.content.decode()
    # Exactly the limit is fine.
    rows = offer_io.parse_upload(csv_bytes([valid()] * offer_io.MAX_ROWS), "angebote.csv")
    assert len(rows) == offer_io.MAX_ROWS


def test_too_large_file(client, world):
    data = b"Titel;Kategorie\r\n" + b"x" * (offer_io.MAX_BYTES + 1)
    with pytest.raises(offer_io.ImportFileError, match="larger than 5 MB"):
        offer_io.parse_upload(data, "angebote.csv")
    login(client, world.coordinator)
    response = client.post(reverse("offers:import"), {"file": _upload(data, "angebote.csv")})
    assert response.status_code == 200 and "larger than 5 MB" in response.content.decode()


def test_windows_csv_with_commas_is_read(world):
    data = csv_bytes([valid(Titel="Sprachcafé für Mütter")], delimiter=",", encoding="cp1252")
    preview = preview_of(data, world.coordinator)
    assert not preview.has_errors and preview.rows[0].title == "Sprachcafé für Mütter"


def test_xlsx_with_real_dates_and_numbers_is_read(world):
    row = valid(**{"Prüfen bis": dt.datetime.combine(SOON, dt.time()), "Plätze": 12.0})
    preview = preview_of(xlsx_bytes([row]), world.coordinator, "angebote.xlsx")
    assert not preview.has_errors, [str(e) for e in preview.errors]
    assert preview.rows[0].values["review_due"] == SOON
    assert preview.rows[0].values["capacity"] == 12


# --- the pages --------------------------------------------------------------------------


def test_upload_preview_and_confirm(client, world, offers, import_dir):
    login(client, world.coordinator)
    page = client.get(reverse("offers:import"))
    assert page.status_code == 200 and 'id="import-form"' in page.content.decode()
    rows = [valid(Titel="Neues Sprachcafé"), {"ID": offers[1].pk, **valid(Titel="Umbenannt")}]
    data = csv_bytes(rows, headers=["ID", *valid()])
    response = client.post(reverse("offers:import"), {"file": _upload(data, "angebote.csv")})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="import-row-2" data-action="new"' in html
    assert 'id="import-row-3" data-action="update"' in html
    assert 'id="import-confirm"' in html
    token = client.session[SESSION_KEY]["token"]
    assert (import_dir / f"{token}.upload").read_bytes() == data
    assert not Offer.objects.filter(title="Neues Sprachcafé").exists()  # not before confirming

    response = client.post(reverse("offers:import_confirm"), {"token": token})
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert Offer.objects.get(title="Neues Sprachcafé").provider == world.lead
    assert Offer.objects.get(pk=offers[1].pk).title == "Umbenannt"
    assert SESSION_KEY not in client.session and not list(import_dir.iterdir())
    # Confirming twice imports nothing more.
    response = client.post(reverse("offers:import_confirm"), {"token": token})
    assert response["Location"] == reverse("offers:import")
    assert Offer.objects.filter(title="Neues Sprachcafé").count() == 1


def test_preview_with_errors_offers_no_confirmation_and_confirm_refuses(client, world):
    login(client, world.coordinator)
    data = csv_bytes([valid(), valid(Titel="Kaputt", Kategorie="unbekannt")])
    html = client.post(reverse("offers:import"), {"file": _upload(data, "a.csv")}).content.decode()
    assert 'id="import-has-errors"' in html and 'id="import-confirm"' not in html
    assert "Kategorie" in html and 'id="import-row-3" data-action="error"' in html
    token = client.session[SESSION_KEY]["token"]
    response = client.post(reverse("offers:import_confirm"), {"token": token})
    assert response.status_code == 200
    assert 'id="import-notice"' in response.content.decode()
    assert not Offer.objects.exists()


def test_confirm_needs_the_token_of_this_preview(client, world):
    login(client, world.coordinator)
    data = csv_bytes([valid()])
    client.post(reverse("offers:import"), {"file": _upload(data, "a.csv")})
    response = client.post(reverse("offers:import_confirm"), {"token": "../../etc/passwd"})
    assert response["Location"] == reverse("offers:import")
    assert not Offer.objects.exists()
    # Acting for another organisation in the same session: the preview is not for it.
    token = client.session[SESSION_KEY]["token"]
    other = MembershipFactory(
        user=world.coordinator.user, organisation=world.partner, role="coordinator"
    )
    session = client.session
    session["lotse_acting_membership"] = other.pk
    session.save()
    response = client.post(reverse("offers:import_confirm"), {"token": token})
    assert response["Location"] == reverse("offers:import")
    assert not Offer.objects.exists()


def test_confirm_by_htmx_redirects_by_header(client, world):
    login(client, world.coordinator)
    client.post(reverse("offers:import"), {"file": _upload(csv_bytes([valid()]), "a.csv")})
    token = client.session[SESSION_KEY]["token"]
    response = client.post(
        reverse("offers:import_confirm"), {"token": token}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 204 and response["HX-Redirect"] == LIST_URL
    assert Offer.objects.count() == 1


def test_a_database_error_on_confirm_is_a_message_not_a_500(client, world, monkeypatch):
    login(client, world.coordinator)
    client.post(reverse("offers:import"), {"file": _upload(csv_bytes([valid()]), "a.csv")})
    token = client.session[SESSION_KEY]["token"]

    def failing_create(**kwargs):
        raise IntegrityError("boom")

    monkeypatch.setattr(services, "offer_create", failing_create)
    response = client.post(reverse("offers:import_confirm"), {"token": token}, follow=True)
    assert response.status_code == 200
    assert "nothing was imported" in response.content.decode()
    assert not Offer.objects.exists()


def test_provider_staff_see_rows_of_other_providers_as_errors(client, world):
    login(client, world.partner_staff)
    data = csv_bytes([valid(**{"Träger": "Jobcenter Lotsenstadt"}), valid()])
    response = client.post(reverse("offers:import"), {"file": _upload(data, "a.csv")})
    html = response.content.decode()
    assert response.status_code == 200
    # Only the rows with errors are listed while there are any.
    assert 'id="import-row-2"' not in html
    assert 'id="import-row-3" data-action="error"' in html and 'id="import-confirm"' not in html
    assert "your own organisation" in html


def test_stale_upload_files_are_removed(client, world, import_dir):
    import os

    import_dir.mkdir(parents=True)
    stale = import_dir / "old.upload"
    stale.write_bytes(b"x")
    os.utime(stale, (0, 0))
    login(client, world.coordinator)
    client.post(reverse("offers:import"), {"file": _upload(csv_bytes([valid()]), "a.csv")})
    assert not stale.exists()


def test_other_provider_factory_is_unaffected(world):
    """An organisation the file does not name is not touched by the lookups."""
    OrganisationFactory(name="Jobcenter Lotsenstadt Süd", short_name="JC")
    preview = preview_of(csv_bytes([valid(**{"Träger": "JC"})]), world.coordinator)
    # The short name is no longer unique: it names nobody.
    assert [m.column for m in preview.errors] == ["Träger"]
