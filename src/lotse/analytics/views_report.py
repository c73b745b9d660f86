"""Pages of the council report (issue #7): produce a report for a period (PDF and
XLSX, kept), the list of produced reports, downloads."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from lotse.core.forms import Form
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required, is_htmx

from . import monitor
from .models import CouncilReport
from .report import last_half_year, report_create, report_download

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
LIST_LIMIT = 50


class ReportForm(Form):
    period_start = forms.DateField(
        label=gettext_lazy("Period from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label=gettext_lazy("Period to"),
        help_text=gettext_lazy("The figures are those of this day; it must have passed."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def _page(request: HttpRequest, form: ReportForm, status: int = 200) -> HttpResponse:
    reports = CouncilReport.objects.select_related("created_by").defer("pdf", "xlsx")[:LIST_LIMIT]
    htmx = is_htmx(request)
    template = "analytics/report/_area.html" if htmx else "analytics/report/list.html"
    # The page shows messages at the top; the swapped area shows its own.
    context = {
        "form": form,
        "reports": reports,
        "inline_messages": htmx,
        # The monitoring export needs both the key and the name.
        "municipality": settings.LOTSE_MUNICIPALITY_CODE and settings.LOTSE_MUNICIPALITY_NAME,
    }
    # htmx swaps only 2xx answers: the form with its errors comes as 200 there.
    return render(request, template, context, status=200 if htmx else status)


@actor_required(Perm.ANALYTICS_VIEW)
def reports(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        start, end = last_half_year(timezone.localdate())
        return _page(request, ReportForm(initial={"period_start": start, "period_end": end}))
    form = ReportForm(request.POST)
    if form.is_valid():
        try:
            report = report_create(
                actor=acting_membership(request),
                period_start=form.cleaned_data["period_start"],
                period_end=form.cleaned_data["period_end"],
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(
                request,
                _("The report “%(title)s” is ready (%(s)s seconds).")
                % {"title": report.title, "s": f"{report.seconds:.1f}".replace(".", ",")},
            )
            if is_htmx(request):
                return _page(request, ReportForm(initial=form.cleaned_data))
            return redirect("analytics:reports")
    return _page(request, form, status=422)


@actor_required(Perm.ANALYTICS_VIEW)
def download(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    if kind not in CONTENT_TYPES:
        raise Http404
    report = get_object_or_404(CouncilReport, pk=pk)
    content = report_download(actor=acting_membership(request), report=report, kind=kind)
    name = f"berichtsvorlage-{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}.{kind}"
    response = HttpResponse(content, content_type=CONTENT_TYPES[kind])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


MONITOR_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


@actor_required(Perm.ANALYTICS_VIEW)
def monitor_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """The state monitoring export of this municipality (the four quarters up to
    today), as `lotse monitor export` makes it."""
    if fmt not in MONITOR_TYPES:
        raise Http404
    today = timezone.localdate()
    start, end = monitor.default_period(today)
    try:
        code, name = monitor.municipality_configured(None, None)
        data = monitor.export_logged(
            actor=acting_membership(request),
            code=code,
            name=name,
            today=today,
            period_start=start,
            period_end=end,
        )
    except monitor.MonitorError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("analytics:reports")
    body = monitor.to_json(data) if fmt == "json" else monitor.to_csv(data)
    response = HttpResponse(body, content_type=MONITOR_TYPES[fmt])
    filename = f"monitoring-{code}-{today:%Y%m%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("reports/", reports, name="reports"),
    path("reports/<int:pk>/<slug:kind>/", download, name="report_download"),
    path("reports/monitoring/<slug:fmt>/", monitor_export, name="monitor_export"),
]
