from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lotse.casework.selectors import dashboard as dashboard_selector
from lotse.referrals.careers_selectors import open_flag_count
from lotse.referrals.selectors import open_incoming_count

from .forms import ActingForm, LoginForm
from .middleware import SESSION_KEY
from .models import Membership


def actor_required(perm: str | None = None) -> Callable[..., Any]:
    """Login, an acting membership and (optionally) a role permission, else 403."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            actor = getattr(request, "membership", None)
            if actor is None:
                return redirect(f"{_acting_url()}?next={request.get_full_path()}")
            if perm is not None and not actor.has_perm(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def acting_membership(request: HttpRequest) -> Membership:
    """The membership the request acts in (set by the middleware; views decorated with
    :func:`actor_required` always have one)."""
    return request.membership  # type: ignore[attr-defined]


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def page_number(request: HttpRequest) -> int:
    """The ``page`` query parameter, 1 when missing or not a number."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _acting_url() -> str:
    from django.urls import reverse

    return reverse("core:acting")


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "core/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        self.request.session.pop(SESSION_KEY, None)
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    pass


@login_required
def acting(request: HttpRequest) -> HttpResponse:
    memberships = list(
        Membership.objects.filter(
            user_id=cast(int, request.user.pk), is_active=True, organisation__is_active=True
        ).select_related("organisation")
    )
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    form = ActingForm(request.POST or None, memberships=memberships)
    if request.method == "POST" and form.is_valid():
        request.session[SESSION_KEY] = int(form.cleaned_data["membership"])
        messages.success(
            request,
            _("You are now acting for %(org)s.")
            % {
                "org": next(
                    m.organisation
                    for m in memberships
                    if str(m.pk) == form.cleaned_data["membership"]
                )
            },
        )
        return redirect(next_url or "core:dashboard")
    return render(
        request, "core/acting.html", {"form": form, "memberships": memberships, "next": next_url}
    )


@actor_required()
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = request.membership  # type: ignore[attr-defined]
    return render(
        request,
        "core/dashboard.html",
        {
            "data": dashboard_selector(actor=actor),
            "incoming_referrals": open_incoming_count(actor=actor),
            "career_flags": open_flag_count(actor=actor),
        },
    )


@require_GET
def health(request: HttpRequest) -> HttpResponse:
    """Liveness for the reverse proxy and the bench's trivial view: no database access."""
    return JsonResponse({"status": "ok"})
