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
    finally:
        settings.DEBUG = debug
        settings.ALLOWED_HOSTS = allowed

    for key in ("case_list", "case_search", "case_page", "trivial"):
        out(f"{key}_p50_ms", f"{timings[key].p50:.2f}")
        out(f"{key}_p95_ms", f"{timings[key].p95:.2f}")
    trivial = timings["trivial"].p50
    for key in ("case_list", "case_search", "case_page"):
        out(f"ratio_{key}_trivial", f"{timings[key].p50 / trivial:.1f}")
    out("case_page_queries", str(len(queries.captured_queries)))
    out("case_page_mean_ms", f"{statistics.fmean(timings['case_page'].samples):.2f}")
