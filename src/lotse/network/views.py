"""Pages of the alliance directory (issue #8): directory, responsibility matrix with
its edit forms for coordinators, and the pathway finder. No personal data."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from lotse.core.models import Organisation
from lotse.core.roles import Perm
from lotse.core.views import acting_membership, actor_required

from . import selectors, services
from .forms import ContactForm, DirectorySearchForm, PathwayForm, ResponsibilityForm
from .models import Contact, Responsibility


@actor_required(Perm.NETWORK_VIEW)
def directory(request: HttpRequest) -> HttpResponse:
    form = DirectorySearchForm(request.GET or None)
    q = form.cleaned_data["q"] if form.is_valid() else ""
    return render(
        request,
        "network/directory.html",
        {
            "form": form,
            "q": q,
            "organisations": selectors.directory(actor=acting_membership(request), q=q),
            "can_edit": acting_membership(request).has_perm(Perm.NETWORK_EDIT),
        },
    )


@actor_required(Perm.NETWORK_VIEW)
def responsibilities(request: HttpRequest) -> HttpResponse:
    actor = acting_membership(request)
    return render(
        request,
        "network/responsibilities.html",
        {
            "matrix": selectors.matrix(actor=actor),
            "can_edit": actor.has_perm(Perm.NETWORK_EDIT),
        },
    )


def _responsibility_form(
    request: HttpRequest, responsibility: Responsibility | None
) -> HttpResponse:
    actor = acting_membership(request)
    if request.method != "POST":
        initial = {}
        if responsibility is not None:
            initial = {
                "organisation": responsibility.organisation_id,
                "target_group": responsibility.target_group_id,
                "field_of_action": responsibility.field_of_action,
                "role": responsibility.role,
                "contact": responsibility.contact_id,
                "note": responsibility.note,
            }
        else:
            # "Add" in an empty cell of the matrix fills the cell in.
            keys = ("target_group", "field_of_action")
            initial = {k: request.GET[k] for k in keys if k in request.GET}
        form = ResponsibilityForm(initial=initial)
        context = {"form": form, "responsibility": responsibility}
        return render(request, "network/responsibility_form.html", context)
    form = ResponsibilityForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if responsibility is None:
                services.responsibility_create(actor=actor, **data)
            else:
                services.responsibility_update(actor=actor, responsibility=responsibility, **data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The responsibility was saved."))
            return redirect("network:responsibilities")
    context = {"form": form, "responsibility": responsibility}
    return render(request, "network/responsibility_form.html", context, status=422)


@actor_required(Perm.NETWORK_EDIT)
def responsibility_new(request: HttpRequest) -> HttpResponse:
    return _responsibility_form(request, None)


@actor_required(Perm.NETWORK_EDIT)
def responsibility_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _responsibility_form(request, get_object_or_404(Responsibility, pk=pk))


@require_POST
@actor_required(Perm.NETWORK_EDIT)
def responsibility_delete(request: HttpRequest, pk: int) -> HttpResponse:
    responsibility = get_object_or_404(Responsibility, pk=pk)
    services.responsibility_delete(actor=acting_membership(request), responsibility=responsibility)
    messages.success(request, _("The responsibility was deleted."))
    return redirect("network:responsibilities")


@actor_required(Perm.NETWORK_VIEW)
def pathways(request: HttpRequest) -> HttpResponse:
    form = PathwayForm(request.GET or None)
    result = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = selectors.pathway(
                actor=acting_membership(request),
                status=data["status"],
                age=data["age"],
                need_code=data["need"].code if data["need"] else None,
                field=data["field"] or None,
            )
        except ValidationError as exc:
            form.add_service_errors(exc)
    return render(request, "network/pathways.html", {"form": form, "result": result})


def _contact_form(
    request: HttpRequest, organisation: Organisation, contact: Contact | None
) -> HttpResponse:
    actor = acting_membership(request)
    context: dict[str, object] = {"organisation": organisation, "contact": contact}
    if request.method != "POST":
        initial = {}
        if contact is not None:
            fields = ("name", "function", "email", "phone", "languages", "note")
            initial = {f: getattr(contact, f) for f in fields}
        context["form"] = ContactForm(initial=initial)
        return render(request, "network/contact_form.html", context)
    form = ContactForm(request.POST)
    context["form"] = form
    if form.is_valid():
        try:
            if contact is None:
                services.contact_create(actor=actor, organisation=organisation, **form.cleaned_data)
            else:
                services.contact_update(actor=actor, contact=contact, **form.cleaned_data)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, _("The contact was saved."))
            return redirect(f"{reverse('network:directory')}#org-{organisation.pk}")
    return render(request, "network/contact_form.html", context, status=422)


@actor_required(Perm.NETWORK_EDIT)
def contact_new(request: HttpRequest, org: int) -> HttpResponse:
    return _contact_form(request, get_object_or_404(Organisation, pk=org, is_active=True), None)


@actor_required(Perm.NETWORK_EDIT)
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.select_related("organisation"), pk=pk)
    return _contact_form(request, contact.organisation, contact)


@require_POST
@actor_required(Perm.NETWORK_EDIT)
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    services.contact_delete(actor=acting_membership(request), contact=contact)
    messages.success(request, _("The contact was deleted."))
    return redirect(f"{reverse('network:directory')}#org-{contact.organisation_id}")
