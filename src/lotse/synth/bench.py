"""The page benchmark behind `lotse bench` (docs/benchmarks.md).

Requests go through Django's test client in this process — no network, no web
server — so the figures are the cost of the view, its queries and its template.
Absolute milliseconds depend on the machine; the ratios to a trivial view
(`/healthz`) measured in the same run are the figures to compare across machines.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from lotse.casework.models import Case
from lotse.core.middleware import SESSION_KEY
from lotse.core.models import Membership
from lotse.people.models import Person


class BenchError(RuntimeError):
    pass


@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)  # milliseconds

    def quantile(self, q: float) -> float:
        data = sorted(self.samples)
        if not data:
            return float("nan")
        if len(data) == 1:
            return data[0]
        # Linear interpolation between closest ranks (as numpy's default).
        pos = q * (len(data) - 1)
        lo = int(pos)
        hi = min(lo + 1, len(data) - 1)
        return data[lo] + (data[hi] - data[lo]) * (pos - lo)

    @property
    def p50(self) -> float:
        return self.quantile(0.5)

    @property
    def p95(self) -> float:
        return self.quantile(0.95)


def use_bench_sqlite(persons: int) -> Path:
    """Switch the default connection to var/bench-<N>.sqlite3 (before it is first used)."""
    path = Path(settings.VAR_DIR) / f"bench-{persons}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    connections["default"].close()
    settings.DATABASES["default"]["NAME"] = str(path)
    connections["default"].settings_dict["NAME"] = str(path)
    return path


def acting_membership() -> Membership:
    """A case manager of the lead agency with the most cases (the demo user if present)."""
    top = (
        Case.objects.values("lead_organisation")
        .annotate(n=Count("id"))
        .order_by("-n", "lead_organisation")
        .first()
    )
    if top is None:
        raise BenchError("The database holds no cases; load data with `lotse synth --load`.")
    org_id = top["lead_organisation"]
    members = Membership.objects.filter(
        organisation_id=org_id, role="case_manager", is_active=True
    ).select_related("user", "organisation")
    demo = members.filter(user__username="case_manager").first()
    if demo is not None:
        return demo
    best = (
        Case.objects.filter(lead_organisation_id=org_id, case_manager__in=members.values("user"))
        .values("case_manager")
        .annotate(n=Count("id"))
        .order_by("-n", "case_manager")
        .first()
    )
    if best is None:
        raise BenchError("No case manager works for the lead agency with the most cases.")
    return members.get(user_id=best["case_manager"])


def common_name(org_id: int) -> str:
    row = (
        Person.objects.filter(cases__lead_organisation_id=org_id)
        .values("given_names")
        .annotate(n=Count("id"))
        .order_by("-n", "given_names")
        .first()
    )
    return row["given_names"].split(" ")[0] if row else "a"


def rich_cases(org_id: int, pool: int) -> list[int]:
    """The cases of the organisation with the longest history (appointments)."""
    return list(
        Case.objects.filter(lead_organisation_id=org_id)
        .annotate(n=Count("appointments"))
        .order_by("-n", "pk")
        .values_list("pk", flat=True)[:pool]
    )


def run(*, requests: int, seed: int = 1, warmup: int = 5, out: Callable[[str, str], None]) -> None:
    """Measure and report through `out(figure, value)`, one call per figure."""
    try:
        urls = {
            "trivial": reverse("core:health"),
            "case_list": reverse("casework:list"),
        }
        detail = lambda pk: reverse("casework:detail", args=[pk])  # noqa: E731
        detail(1)
    except NoReverseMatch as exc:
        raise BenchError(f"A page to measure is not available: {exc}") from None

    membership = acting_membership()
    org_id = membership.organisation_id
    name = common_name(org_id)
    urls["case_search"] = f"{urls['case_list']}?q={name}"
    pool = rich_cases(org_id, max(50, requests))
    rng = random.Random(seed)
    picks = [rng.choice(pool) for _ in range(requests)]

    out("persons", str(Person.objects.count()))
    out("cases", str(Case.objects.count()))
    out("db_vendor", connection.vendor)
    out("acting_as", f"{membership.user.username} @ {membership.organisation}")
    out("search_term", name)
    out("requests_per_figure", str(requests))

    # Production-like: no debug cursor, no debug pages.
    debug = settings.DEBUG
    settings.DEBUG = False
    allowed = settings.ALLOWED_HOSTS
    settings.ALLOWED_HOSTS = [*allowed, "testserver"]
    try:
        client = Client(raise_request_exception=False)
        client.force_login(membership.user)
        session = client.session
        session[SESSION_KEY] = membership.pk
        session.save()

        def get(url: str) -> float:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")
            return elapsed

        for i in range(warmup):
            for url in urls.values():
                get(url)
            get(detail(pool[i % len(pool)]))
        timings = {key: Timing() for key in ("case_list", "case_search", "case_page", "trivial")}
        # Interleaved, so that drift (caches, other load) hits every figure alike.
        for pk in picks:
            timings["trivial"].samples.append(get(urls["trivial"]))
            timings["case_list"].samples.append(get(urls["case_list"]))
            timings["case_search"].samples.append(get(urls["case_search"]))
            timings["case_page"].samples.append(get(detail(pk)))
        with CaptureQueriesContext(connection) as queries:
            get(detail(pool[0]))
        # Count now: the next request clears the connection's query log.
        page_queries = len(queries.captured_queries)
    finally:
        settings.DEBUG = debug
        settings.ALLOWED_HOSTS = allowed

    privacy = _privacy_figures(membership, picks, warmup=warmup)
    for key in ("case_list", "case_search", "case_page", "trivial"):
        out(f"{key}_p50_ms", f"{timings[key].p50:.2f}")
        out(f"{key}_p95_ms", f"{timings[key].p95:.2f}")
    trivial = timings["trivial"].p50
    for key in ("case_list", "case_search", "case_page"):
        out(f"ratio_{key}_trivial", f"{timings[key].p50 / trivial:.1f}")
    out("case_page_queries", str(page_queries))
    out("case_page_mean_ms", f"{statistics.fmean(timings['case_page'].samples):.2f}")
    for figure, value in privacy:
        out(figure, value)


def _client_for(membership: Membership) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(membership.user)
    session = client.session
    session[SESSION_KEY] = membership.pk
    session.save()
    return client


def _privacy_figures(
    membership: Membership, picks: list[int], *, warmup: int
) -> list[tuple[str, str]]:
    """Cost of the access decision and of access logging on the case page (issue #3):
    the page with and without writing the access log, interleaved; the decision alone;
    and a partner's case page, where consent decides category by category."""
    from unittest import mock

    from lotse.privacy.access import case_access, visible_cases

    debug, allowed = settings.DEBUG, settings.ALLOWED_HOSTS
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = [*allowed, "testserver"]
    figures: list[tuple[str, str]] = []
    try:
        client = _client_for(membership)

        def timed(c: Client, url: str) -> float:
            start = time.perf_counter()
            response = c.get(url)
            elapsed = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise BenchError(f"GET {url} answered {response.status_code}")
            return elapsed

        urls = [reverse("casework:detail", args=[pk]) for pk in picks]
        logged, unlogged = Timing(), Timing()
        # The measurement only: a page that skips the log must never exist in production.
        no_log = mock.patch("lotse.casework.selectors.access_log_record", lambda **kw: 0)
        for url in urls[:warmup]:
            timed(client, url)
        for url in urls:
            logged.samples.append(timed(client, url))
            with no_log:
                unlogged.samples.append(timed(client, url))
        figures += [
            ("case_page_logged_p95_ms", f"{logged.p95:.2f}"),
            ("case_page_unlogged_p95_ms", f"{unlogged.p95:.2f}"),
            ("logging_overhead_p95_pct", f"{(logged.p95 / unlogged.p95 - 1) * 100:.1f}"),
            ("logging_within_20_pct", "yes" if logged.p95 <= unlogged.p95 * 1.2 else "no"),
        ]
        cases = list(Case.objects.filter(pk__in=picks))
        decision = Timing()
        for case in cases:
            start = time.perf_counter()
            case_access(membership, case)
            decision.samples.append((time.perf_counter() - start) * 1000)
        figures.append(("access_decision_p50_ms", f"{decision.p50:.3f}"))

        partner = (
            Membership.objects.filter(role="partner_staff", is_active=True)
            .select_related("user", "organisation")
            .order_by("pk")
        )
        for member in partner:
            shared = list(
                visible_cases(member)
                .exclude(lead_organisation_id=member.organisation_id)
                .values_list("pk", flat=True)[:50]
            )
            if len(shared) >= 10:
                partner_client = _client_for(member)
                page = Timing()
                for pk in (shared * (len(urls) // len(shared) + 1))[: len(urls)]:
                    page.samples.append(
                        timed(partner_client, reverse("casework:detail", args=[pk]))
                    )
                figures += [
                    ("partner_case_page_p50_ms", f"{page.p50:.2f}"),
                    ("partner_case_page_p95_ms", f"{page.p95:.2f}"),
                ]
                break
    finally:
        settings.DEBUG, settings.ALLOWED_HOSTS = debug, allowed
    return figures
