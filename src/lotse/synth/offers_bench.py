"""The offer catalogue benchmark behind `lotse bench` (docs/benchmarks.md, issue #5).

A catalogue search is what the catalogue page does for one request:
`lotse.offers.selectors.catalogue(CatalogueFilters(...))`, its first page of 25 rows
(with provider and district, as the page shows them) and its count. The queries are
varied and drawn from the data itself: words of the offers' titles, categories,
fields of action, districts, residence statuses, ages, needs, languages, "free places
only" — alone and combined, as a coordinator would filter.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import time
from collections.abc import Callable

from django.conf import settings
from django.db.models import F, Q

from lotse.core.models import District, NeedType
from lotse.offers.codes import FieldOfAction, OfferCategory
from lotse.offers.models import Offer
from lotse.offers.selectors import CatalogueFilters, catalogue
from lotse.people.names import fold

from .bench import BenchError, Timing

PAGE = 25
WARMUP = 5
# Statuses a coordinator filters for most (the target groups of DESIGN §1).
STATUSES = ("gestattung", "duldung", "ae_25_2_gfk", "ae_24", "ae_25_2_subsidiaer")
LANGUAGES = ("ar", "fa", "uk", "en")
# What a query filters by, and how often (a coordinator's mix: mostly words, often one
# or two filters).
PATTERNS = [
    ("text", 30),
    ("text+filter", 15),
    ("category", 15),
    ("category+district", 10),
    ("field+age", 10),
    ("status+age", 10),
    ("need", 5),
    ("language", 5),
]
# Folded words of four letters and more that say nothing about an offer.
STOPWORDS = frozenset({"nach", "oder", "eine", "einer", "einen", "fuer", "ueber"})


def title_words(limit: int = 2000) -> list[list[str]]:
    """The folded words (four letters and more) of up to `limit` offer titles."""
    titles = Offer.objects.order_by("pk").values_list("title", flat=True)[:limit]
    out = []
    for title in titles:
        words = [w for w in fold(title).split() if len(w) >= 4 and w not in STOPWORDS]
        if words:
            out.append(words)
    return out


def queries(n: int, seed: int) -> list[CatalogueFilters]:
    """n varied filter sets, deterministic for the data and the seed."""
    rng = random.Random(seed)
    words = title_words()
    if not words:
        raise BenchError("The database holds no offers; load data with `lotse synth --load`.")
    districts = list(District.objects.order_by("pk").values_list("pk", flat=True))
    needs = list(NeedType.objects.order_by("pk").values_list("pk", flat=True))
    categories = [c.value for c in OfferCategory]
    fields = [f.value for f in FieldOfAction]
    out: list[CatalogueFilters] = []
    for _ in range(n):
        args: dict[str, object] = {}
        pattern = _pick(rng, PATTERNS)
        if pattern in ("text", "text+filter"):
            title = rng.choice(words)
            k = 2 if len(title) > 1 and rng.random() < 0.3 else 1
            args["q"] = " ".join(rng.sample(title, k))
            if pattern == "text+filter":
                extra = rng.choice(("district", "age", "free", "status"))
                if extra == "district" and districts:
                    args["district_id"] = rng.choice(districts)
                elif extra == "age":
                    args["age"] = rng.randint(16, 45)
                elif extra == "free":
                    args["free_places"] = True
                else:
                    args["status"] = rng.choice(STATUSES)
        elif pattern in ("category", "category+district"):
            args["category"] = rng.choice(categories)
            args["free_places"] = rng.random() < 0.5
            if pattern == "category+district" and districts:
                args["district_id"] = rng.choice(districts)
        elif pattern == "field+age":
            args["field_of_action"] = rng.choice(fields)
            args["age"] = rng.randint(16, 45)
            args["free_places"] = rng.random() < 0.5
        elif pattern == "status+age":
            args["status"] = rng.choice(STATUSES)
            args["age"] = rng.randint(16, 45)
            if rng.random() < 0.3:
                args["category"] = rng.choice(categories)
        elif pattern == "need" and needs:
            args["need_type_id"] = rng.choice(needs)
            if districts and rng.random() < 0.3:
                args["district_id"] = rng.choice(districts)
        else:
            args["language"] = rng.choice(LANGUAGES)
            if rng.random() < 0.5:
                args["field_of_action"] = rng.choice(fields)
        out.append(CatalogueFilters(**args))  # type: ignore[arg-type]
    return out


def _pick(rng: random.Random, pairs: list[tuple[str, int]]) -> str:
    r = rng.random() * sum(w for _, w in pairs)
    for item, w in pairs:
        r -= w
        if r < 0:
            return item
    return pairs[-1][0]


def search(filters: CatalogueFilters, today: dt.date) -> tuple[int, list[Offer]]:
    """One catalogue request: the count and the first page, evaluated."""
    qs = catalogue(filters, today=today)
    count = qs.count()
    page = list(qs[:PAGE])
    for offer in page:  # what the page shows of each row
        _ = (offer.provider.name, offer.district.name if offer.district else "")
    return count, page


def run(
    *,
    requests: int,
    out: Callable[[str, str], None],
    today: dt.date,
    seed: int = 1,
) -> None:
    """Measure and report through `out(figure, value)`, one call per figure."""
    filters = queries(requests, seed)
    shown = Offer.objects.filter(is_active=True).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    )
    out("catalogue_offers", str(Offer.objects.count()))
    out("catalogue_offers_current", str(shown.count()))
    out(
        "catalogue_offers_with_free_places",
        str(shown.filter(Q(capacity__isnull=True) | Q(capacity__gt=F("occupied"))).count()),
    )
    out("catalogue_queries", str(len(filters)))
    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        for f in filters[:WARMUP]:
            search(f, today)
        every, text, other = Timing(), Timing(), Timing()
        hits: list[int] = []
        for f in filters:
            start = time.perf_counter()
            count, _page = search(f, today)
            elapsed = (time.perf_counter() - start) * 1000
            every.samples.append(elapsed)
            (text if f.q else other).samples.append(elapsed)
            hits.append(count)
        start = time.perf_counter()
        for _ in range(min(requests, 50)):
            search(CatalogueFilters(), today)
        unfiltered = (time.perf_counter() - start) * 1000 / min(requests, 50)
    finally:
        settings.DEBUG = debug
    out("catalogue_search_p50_ms", f"{every.p50:.2f}")
    out("catalogue_search_p95_ms", f"{every.p95:.2f}")
    out("catalogue_search_max_ms", f"{max(every.samples):.2f}")
    out("catalogue_text_search_p95_ms", f"{text.p95:.2f}")
    out("catalogue_filter_only_p95_ms", f"{other.p95:.2f}")
    out("catalogue_unfiltered_mean_ms", f"{unfiltered:.2f}")
    out("catalogue_hits_median", f"{statistics.median(hits):.0f}")
    out("catalogue_empty_results_share", f"{sum(1 for h in hits if h == 0) / len(hits):.2f}")
    _matching(requests=requests, out=out, today=today, seed=seed)


def _matching(*, requests: int, out: Callable[[str, str], None], today: dt.date, seed: int) -> None:
    """Matching one person over the whole catalogue, as the page "Passende Angebote"
    does it: the person's profile (residence, facts, needs), the catalogue's compact
    rows (cached; checking the cache costs two queries) and the ranking of every offer
    with the best 50 of each list. The parts are reported too: ``profile`` (person and
    profile queries), ``rows`` (the cache check) and ``ranking`` (the ranking alone)."""
    from lotse.casework.models import Case
    from lotse.eligibility.ruleset import active_rule_set
    from lotse.offers.matching import Matcher
    from lotse.offers.selectors import offer_rows
    from lotse.offers.selectors_matching import _profile
    from lotse.privacy.access import ALL_CATEGORIES, CaseAccess

    ids = list(Case.objects.values_list("person_id", flat=True).order_by("pk")[:5000])
    if not ids:
        return
    rng = random.Random(seed)
    people = [rng.choice(ids) for _ in range(max(requests, 20))]
    lead = CaseAccess(case_id=0, categories=dict.fromkeys(ALL_CATEGORIES, "lead_organisation"))
    rs = active_rule_set()
    from lotse.people.models import Person

    debug = settings.DEBUG
    settings.DEBUG = False
    try:
        rows = offer_rows(today=today)  # fill the cache, as a running server has it
        whole, profiles, checks, core = Timing(), Timing(), Timing(), Timing()
        for i, person_id in enumerate(people):
            start = time.perf_counter()
            person = Person.objects.get(pk=person_id)
            profile, _errors = _profile(person, lead, today)
            loaded = time.perf_counter()
            rows = offer_rows(today=today)
            middle = time.perf_counter()
            Matcher(profile, rows, rs).ranked(50)
            end = time.perf_counter()
            if i >= WARMUP:
                whole.samples.append((end - start) * 1000)
                profiles.samples.append((loaded - start) * 1000)
                checks.samples.append((middle - loaded) * 1000)
                core.samples.append((end - middle) * 1000)
    finally:
        settings.DEBUG = debug
    out("matching_offers", str(len(rows)))
    out("matching_persons", str(len(whole.samples)))
    out("matching_person_p50_ms", f"{whole.p50:.2f}")
    out("matching_person_p95_ms", f"{whole.p95:.2f}")
    out("matching_ranking_p50_ms", f"{core.p50:.2f}")
    out("matching_ranking_p95_ms", f"{core.p95:.2f}")
    out("matching_profile_p50_ms", f"{profiles.p50:.2f}")
    out("matching_profile_p95_ms", f"{profiles.p95:.2f}")
    out("matching_rows_p50_ms", f"{checks.p50:.2f}")
    out("matching_rows_p95_ms", f"{checks.p95:.2f}")
