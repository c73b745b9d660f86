"""Export of the catalogue and import of offers from a spreadsheet (issue #5).

The import keeps the uploaded file, not the parsed rows, between preview and
confirmation: in a file under ``VAR_DIR/offer-imports/`` named by a random token that
only the uploader's session knows (with the acting membership and the file's SHA-256).
The session stays small (it is read on every request; 5,000 parsed rows would make it
megabytes), and confirming parses and validates the file again anyway, since the
catalogue may have changed since the preview. Offers hold no personal data; files are
removed on confirmation and at the latest after a working day.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from lotse.core.forms import Form
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, is_htmx
from lotse.people.codes import Language, ResidenceStatus

from . import io
from .codes import FieldOfAction, OfferCategory
from .selectors import CatalogueFilters, catalogue

logger = logging.getLogger(__name__)

SESSION_KEY = "lotse_offer_import"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
STALE_AFTER_SECONDS = 24 * 60 * 60


# --- export -----------------------------------------------------------------------------


class ExportFilterForm(forms.Form):
    """The catalogue's filter parameters (same names and meaning as the list page)."""

    q = forms.CharField(required=False, max_length=100)
    field_of_action = forms.ChoiceField(required=False, choices=[("", ""), *FieldOfAction.choices])
    category = forms.ChoiceField(required=False, choices=[("", ""), *OfferCategory.choices])
    district = forms.IntegerField(required=False, min_value=1)
    provider = forms.IntegerField(required=False, min_value=1)
    need_type = forms.IntegerField(required=False, min_value=1)
    status = forms.ChoiceField(required=False, choices=[("", ""), *ResidenceStatus.choices])
    age = forms.IntegerField(required=False, min_value=0, max_value=99)
    language = forms.ChoiceField(required=False, choices=[("", ""), *Language.choices])
    free_places = forms.BooleanField(required=False)
    include_past = forms.BooleanField(required=False)
    include_inactive = forms.BooleanField(required=False)

    def filters(self, *, can_edit: bool) -> CatalogueFilters:
        """The filters from the valid parameters; an invalid one is ignored, as on the
        catalogue page."""
        self.is_valid()
        data: dict[str, Any] = self.cleaned_data
        return CatalogueFilters(
            q=data.get("q") or "",
            field_of_action=data.get("field_of_action") or "",
            category=data.get("category") or "",
            district_id=data.get("district"),
            provider_id=data.get("provider"),
            need_type_id=data.get("need_type"),
            status=data.get("status") or "",
            age=data.get("age"),
            language=data.get("language") or "",
            free_places=bool(data.get("free_places")),
            include_past=bool(data.get("include_past")),
            include_inactive=can_edit and bool(data.get("include_inactive")),
        )


@require_GET
@actor_required(Perm.OFFER_VIEW)
def offer_export(request: HttpRequest) -> HttpResponse:
    form = ExportFilterForm(request.GET)
    filters = form.filters(can_edit=acting_membership(request).has_perm(Perm.OFFER_EDIT))
    fmt = request.GET.get("format") or "xlsx"
    if fmt not in io.EXPORTERS:
        return HttpResponseBadRequest(_("Unknown export format."))
    exporter, content_type = io.EXPORTERS[fmt]
    queryset = catalogue(filters).order_by("title", "pk")
    response = HttpResponse(exporter(queryset), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{io.export_filename(fmt)}"'
    return response


# --- import -----------------------------------------------------------------------------


class OfferImportForm(Form):
    file = forms.FileField(
        label=gettext_lazy("Table of offers (.xlsx or .csv)"),
        help_text=gettext_lazy(
            "At most 5 MB and 5,000 offers. Rows with an ID change that offer, rows without "
            "one add a new offer."
        ),
        widget=forms.FileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > io.MAX_BYTES:
            raise ValidationError(
                _("The file is larger than %(mb)s MB. Split it into several files.")
                % {"mb": io.MAX_BYTES // (1024 * 1024)}
            )
        return upload


def _import_dir() -> Path:
    return Path(settings.VAR_DIR) / "offer-imports"


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - STALE_AFTER_SECONDS
    for path in directory.glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:  # removed meanwhile by another request
            continue


def _store(request: HttpRequest, data: bytes, filename: str) -> str:
    directory = _import_dir()
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale(directory)
    _discard(request)
    token = secrets.token_urlsafe(24)
    (directory / f"{token}.upload").write_bytes(data)
    request.session[SESSION_KEY] = {
        "token": token,
        "filename": filename,
        "sha256": hashlib.sha256(data).hexdigest(),
        "membership": acting_membership(request).pk,
    }
    return token


def _stored(request: HttpRequest, token: str) -> tuple[bytes, str] | None:
    """The file of the preview ``token`` if it is this session's and unchanged."""
    entry = request.session.get(SESSION_KEY)
    if not isinstance(entry, dict) or entry.get("token") != token or not _TOKEN.fullmatch(token):
        return None
    if entry.get("membership") != acting_membership(request).pk:
        return None
    try:
        data = (_import_dir() / f"{token}.upload").read_bytes()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() != entry.get("sha256"):
        return None
    return data, str(entry.get("filename", ""))


def _discard(request: HttpRequest) -> None:
    entry = request.session.pop(SESSION_KEY, None)
    if isinstance(entry, dict) and _TOKEN.fullmatch(str(entry.get("token", ""))):
        (_import_dir() / f"{entry['token']}.upload").unlink(missing_ok=True)


def _import_page(
    request: HttpRequest,
    form: OfferImportForm,
    preview: io.Preview | None = None,
    token: str = "",
    filename: str = "",
    notice: str = "",
) -> HttpResponse:
    template = "offers/import_preview.html" if preview is not None else "offers/import.html"
    rows = []
    if preview is not None:
        rows = [r for r in preview.rows if r.errors] if preview.has_errors else preview.rows
    return render(
        request,
        template,
        {
            "form": form,
            "preview": preview,
            "rows": rows,
            "token": token,
            "filename": filename,
            "columns": io.COLUMNS,
            "max_rows": io.MAX_ROWS,
            "notice": notice,
        },
    )


@actor_required(Perm.OFFER_EDIT)
def offer_import(request: HttpRequest) -> HttpResponse:
    """Upload a table; show what importing it would do, row by row."""
    if request.method != "POST":
        return _import_page(request, OfferImportForm())
    form = OfferImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _import_page(request, form)
    upload = form.cleaned_data["file"]
    try:
        data = upload.read(io.MAX_BYTES + 1)
        rows = io.parse_upload(data, upload.name)
    except io.ImportFileError as exc:
        form.add_error("file", exc.message)
        return _import_page(request, form)
    preview = io.validate_rows(rows, acting_membership(request))
    token = _store(request, data, upload.name)
    return _import_page(request, OfferImportForm(), preview, token, upload.name)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


@require_POST
@actor_required(Perm.OFFER_EDIT)
def offer_import_confirm(request: HttpRequest) -> HttpResponse:
    """Import the previewed file: every row or none."""
    token = request.POST.get("token", "")
    stored = _stored(request, token)
    if stored is None:
        messages.error(
            request, _("This preview is no longer available. Please upload the file again.")
        )
        return _done(request, reverse("offers:import"))
    data, filename = stored
    actor = acting_membership(request)
    try:
        preview = io.validate_rows(io.parse_upload(data, filename), actor)
        if preview.has_errors:
            raise io.ImportRejected(preview)
        result = io.apply(preview, actor)
    except io.ImportFileError as exc:  # pragma: no cover - the file was read before
        messages.error(request, exc.message)
        return _done(request, reverse("offers:import"))
    except io.ImportRejected as exc:
        notice = _("Nothing was imported: the file does not fit the offers as they are now.")
        return _import_page(request, OfferImportForm(), exc.preview, token, filename, notice)
    except (IntegrityError, DataError):
        logger.exception("offer import failed")
        messages.error(request, _("The import failed; nothing was imported."))
        return _done(request, reverse("offers:import"))
    _discard(request)
    messages.success(
        request,
        _("Import done: %(created)s new, %(updated)s changed, %(unchanged)s unchanged offers.")
        % {"created": result.created, "updated": result.updated, "unchanged": result.unchanged},
    )
    return _done(request, reverse("offers:list"))
