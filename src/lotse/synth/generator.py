"""A synthetic municipality as plain rows, deterministic for (seed, reference date).

Pure Python: no database, no clock, one `random.Random(seed)`. The output is a
dict of table name → list of row dicts keyed by model attribute names
(`person_id`, not `person`). Primary keys are local (1, 2, …); the loader maps
them onto the database. Two references leave the generator unresolved on
purpose: `need_type` (a NeedType code) and `guide_id` (the interview guide given
in the config), because they already live in the database.

Persons come in chunks (`Generator.chunks`) so that 100 000 persons never sit in
memory at once; the random stream does not depend on the chunk size, so the
output for a seed is the same whatever the chunking.

Some parts draw from random streams of their own, so that adding them left every
other table of a seed as it was: consents (`privacy:<seed>`), the facts of the
eligibility check (`eligibility:<seed>`), the offer catalogue (`offers:<seed>`) and
each person's referral and participation history (`participations:<seed>:<person>`,
participations.py). The participations take places in the catalogue's offers:
`offers_occupied` gives the offer rows with the places taken once all persons are
generated.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from anyascii import anyascii

from lotse.eligibility.codes import CODES
from lotse.people.names import search_keys

from . import pools
from .catalogue import Catalogue, Provider
from .participations import (
    PLANT_SHARE,
    STORY_TABLES,
    Histories,
    ReferralConsent,
    StoryCase,
    StoryPerson,
    StoryStaff,
    World,
)
from .pools import ORGANISATIONS, ORIGINS, NamePool, Origin

BERLIN = ZoneInfo("Europe/Berlin")
# Django treats a leading "!" as an unusable password: synthetic staff cannot log in.
UNUSABLE_PASSWORD = "!synthetic-user-no-login"  # noqa: S105

Row = dict[str, Any]
Rows = dict[str, list[Row]]

REFERENCE_TABLES = ["district", "organisation", "user", "membership", "sharing_agreement"]
# The offer catalogue (catalogue.py): a fixed number of offers, whatever the persons.
OFFER_TABLES = ["offer", "offer_need_type"]
PERSON_TABLES = [
    "household",
    "person",
    "person_name",
    "person_language",
    "residence_period",
    "benefit_period",
    "case",
    "case_team_member",
    "integration_plan",
    "intake",
    "assessment",
    "assessment_item",
    "plan_goal",
    "plan_step",
    "plan_version",
    "appointment",
    "note",
    "followup",
    "consent",
    "consent_receiving_organisation",
    "consent_named_user",
    "break_glass_access",
    "eligibility_personfacts",
    # Referral and participation histories (participations.py; own random stream).
    *STORY_TABLES,
]
TABLES = REFERENCE_TABLES + OFFER_TABLES + PERSON_TABLES

PHASES = [
    ("intake", 10),
    ("assessment", 10),
    ("planning", 15),
    ("implementation", 45),
    ("evaluation", 5),
    ("closed", 15),
]
CLOSING_REASONS = [
    ("goals_achieved", 30),
    ("transferred", 15),
    ("moved_away", 15),
    ("left_target_group", 10),
    ("no_contact", 15),
    ("declined", 7),
    ("departed", 4),
    ("other", 4),
]

ASYLBLG_STATUSES = frozenset(
    {
        "ankunftsnachweis",
        "gestattung",
        "duldung",
        "duldung_ermessen",
        "duldung_ungeklaerte_identitaet",
        "ausbildungsduldung",
        "beschaeftigungsduldung",
        "ausreisepflichtig",
        "ae_25_5",
    }
)
TOLERATED = frozenset(
    {
        "duldung",
        "duldung_ermessen",
        "duldung_ungeklaerte_identitaet",
        "ausbildungsduldung",
        "beschaeftigungsduldung",
        "ausreisepflichtig",
    }
)
ASYLUM = frozenset({"ankunftsnachweis", "gestattung"})
# Validity of the document in days, for document_expiry.
VALIDITY = {
    "gestattung": 180,
    "duldung": 180,
    "duldung_ermessen": 180,
    "duldung_ungeklaerte_identitaet": 90,
    "ausbildungsduldung": 1095,
    "beschaeftigungsduldung": 910,
    "fiktionsbescheinigung": 90,
    "ae_16g": 1095,
    "ae_19d": 730,
    "ae_24": 365,
    "ae_25_1": 1095,
    "ae_25_2_gfk": 1095,
    "ae_25_2_subsidiaer": 365,
    "ae_25_3": 365,
    "ae_25_5": 180,
    "ae_25a": 730,
    "ae_25b": 730,
    "ae_104c": 540,
    "ae_familie": 1095,
}
WORK = {
    "ankunftsnachweis": "not_allowed",
    "gestattung": "with_permission",
    "duldung": "with_permission",
    "duldung_ermessen": "with_permission",
    "duldung_ungeklaerte_identitaet": "not_allowed",
    "ausreisepflichtig": "not_allowed",
}
BENEFIT_AUTHORITY = {
    "asylblg_3": "sozialamt",
    "asylblg_2": "sozialamt",
    "sgb2": "jobcenter",
    "sgb3": "agentur",
    "sgb8": "jugendamt",
    "sgb12": "sozialamt",
}
# 2024-02-27: analogous benefits (§ 2 AsylbLG) after 36 instead of 18 months.
ASYLBLG_36_MONTHS_FROM = dt.date(2024, 2, 27)
UKRAINE_SGB2_FROM = dt.date(2022, 6, 1)
TRAINING_PERMIT_FROM = dt.date(2024, 3, 1)  # § 16g AufenthG
UKRAINE_WAR = dt.date(2022, 2, 24)

# Consents (DESIGN §5): the state of the latest consent per team membership, and how
# its scope varies. Shares refer to memberships of open cases that are still active.
CONSENT_STATES = [("valid", 90), ("withdrawn", 5), ("expired", 5)]
CONSENT_YEARS = [(1, 40), (2, 50), (0, 10)]  # valid for 1 or 2 years, or without end (0)
PARTIAL_SHARE = 0.10  # fewer categories than the receiving organisation usually gets
NAMED_SHARE = 0.03  # only the team member, not all staff of the organisation
INTERPRETER_SHARE = 0.5  # of persons with German below B1
RENEWAL_DAYS = 30  # a renewal is signed up to this many days before the expiry
EXPIRED_WITHIN_DAYS = 120  # an expired consent ran out this recently
REFERRAL_SHARE = 0.06  # cases with a consent to a referral to an education provider
BREAK_GLASS_SHARE = 0.004  # cases with one (long expired) emergency access
NON_GERMAN_SPEAKERS = frozenset({"none", "A1", "A2"})

CEFR_BY_YEARS = [  # (years in Germany up to, levels, weights)
    (1, ["none", "A1", "A2", "B1"], [20, 50, 25, 5]),
    (3, ["A1", "A2", "B1", "B2"], [30, 40, 25, 5]),
    (99, ["A1", "A2", "B1", "B2", "C1"], [8, 30, 38, 19, 5]),
]
GERMAN_NEED = {
    "none": "deutsch_a1",
    "A1": "deutsch_a2",
    "A2": "deutsch_b1",
    "B1": "deutsch_b2",
    "B2": "deutsch_c1",
    "C1": "deutsch_c1",
}


@dataclass(frozen=True)
class GuideQuestion:
    key: str
    section: str
    text: str
    kind: str
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class NeedTypeSpec:
    code: str
    name: str
    life_domain: str


@dataclass
class Config:
    persons: int
    seed: int
    today: dt.date
    guide_id: int | None = None
    guide: Sequence[GuideQuestion] = ()
    need_types: Sequence[NeedTypeSpec] = ()
    # Share of persons whose story shows a known measure-career pattern or a near miss
    # (#6, participations.plant_candidates); 0 plants nothing.
    plant_share: float = PLANT_SHARE


def default_guide() -> list[GuideQuestion]:
    """The default guide as the migration creates it (used when no database is at hand)."""
    from importlib import import_module

    module = import_module("lotse.casework.migrations.0003_default_guide")
    return [
        GuideQuestion(key, section, text, kind, tuple(choices), required)
        for key, section, kind, text, choices, required in module.QUESTIONS
    ]


def default_need_types() -> list[NeedTypeSpec]:
    from importlib import import_module

    module = import_module("lotse.core.migrations.0002_default_data")
    return [NeedTypeSpec(code, name, domain) for code, name, domain in module.NEED_TYPES]


# --- small date helpers -------------------------------------------------------


def days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    last = [
        31,
        29 if year % 4 == 0 and (year % 100 or year % 400 == 0) else 28,
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ][month - 1]
    return dt.date(year, month, min(day.day, last))


def first_of_next_month(day: dt.date) -> dt.date:
    return add_months(day.replace(day=1), 1)


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=BERLIN)


class Draw:
    """Random choices from one stream (the generator's helpers, for a second stream)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def pick(self, items: Sequence[Any]) -> Any:
        return items[self.rng.randrange(len(items))]

    def weighted(self, pairs: Sequence[tuple[Any, float]]) -> Any:
        total = sum(w for _, w in pairs)
        r = self.rng.random() * total
        for item, w in pairs:
            r -= w
            if r < 0:
                return item
        return pairs[-1][0]

    def day_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        if hi <= lo:
            return lo
        return lo + days(self.rng.randint(0, (hi - lo).days))

    def moment_until(
        self, day: dt.date, limit: dt.datetime, hours: tuple[int, int] = (8, 17)
    ) -> dt.datetime:
        value = at(day, self.rng.randint(*hours), self.pick((0, 10, 20, 30, 40, 50)))
        return min(value, limit)


def ascii_slug(text: str) -> str:
    folded = anyascii(text).lower()
    return "".join(ch for ch in folded if ch.isalnum() or ch == ".")


# --- working state per person and case ----------------------------------------


@dataclass
class Staff:
    user_id: int
    org_key: str
    label: str  # str(user): full name


@dataclass
class Profile:
    """What the person's story says; drives needs, answers and team."""

    age: int
    gender: str
    origin: Origin
    german: str
    school_years: int
    status: str  # current residence status
    regime: str  # current benefit regime
    doc_expiry: dt.date | None
    entry: dt.date
    first_language: str = "de"


@dataclass
class CaseCtx:
    id: int
    person_id: int
    lead: str
    manager: Staff
    phase: str
    opened: dt.date
    closed: dt.date | None
    reason: str = ""
    team: list[Staff] = field(default_factory=list)
    updated: dt.datetime | None = None
    # (need type, status) of the latest assessment with items: the story's next step.
    needs: list[tuple[str, str]] = field(default_factory=list)

    def touch(self, moment: dt.datetime) -> None:
        if self.updated is None or moment > self.updated:
            self.updated = moment


@dataclass
class Segment:
    start: dt.date
    status: str
    authority: str | None = "abh"
    end: dt.date | None = None


class Generator(Draw):
    def __init__(self, config: Config) -> None:
        super().__init__(random.Random(config.seed))
        self.config = config
        # Consents and emergency accesses draw from a stream of their own, so that adding
        # them left every other table of a seed as it was.
        self.draw = Draw(random.Random(f"privacy:{config.seed}"))
        # The same for the facts of the eligibility check (eligibility_personfacts).
        self.facts_draw = Draw(random.Random(f"eligibility:{config.seed}"))
        self.today = config.today
        self.yesterday = config.today - days(1)
        self.past_limit = at(self.yesterday, 18)
        self.guide = list(config.guide) or default_guide()
        self.need_types = {n.code: n for n in (config.need_types or default_need_types())}
        self.counters: dict[str, itertools.count[int]] = {t: itertools.count(1) for t in TABLES}
        self.org_ids: dict[str, int] = {}
        self.org_label: dict[int, str] = {}
        self.district_ids: list[int] = []
        self.district_cum: list[float] = []
        self.case_managers: dict[str, list[Staff]] = {}
        self.partner_staff: dict[str, list[Staff]] = {}
        self.origin_cum = list(itertools.accumulate(o.weight for o in ORIGINS))
        self.specs = {o.key: o for o in ORGANISATIONS}
        self.user_labels: dict[int, str] = {}
        self.user_emails: dict[int, str] = {}
        self._reference: Rows | None = None
        self._offers: Rows | None = None
        self._histories: Histories | None = None

    # --- helpers ----------------------------------------------------------

    def next_id(self, table: str) -> int:
        return next(self.counters[table])

    def moment(self, day: dt.date, hours: tuple[int, int] = (8, 17)) -> dt.datetime:
        """A working-time moment on `day`, never later than the end of yesterday."""
        return self.moment_until(day, self.past_limit, hours)

    # --- reference data ----------------------------------------------------

    def reference(self) -> Rows:
        """Districts, organisations, staff users and memberships (generated once, first)."""
        if self._reference is not None:
            return self._reference
        rows: Rows = {t: [] for t in REFERENCE_TABLES}
        district_by_code: dict[str, int] = {}
        cum = 0.0
        for code, name, weight in pools.DISTRICTS:
            pk = self.next_id("district")
            rows["district"].append({"id": pk, "code": code, "name": name})
            district_by_code[code] = pk
            self.district_ids.append(pk)
            cum += weight
            self.district_cum.append(cum)
        for spec in ORGANISATIONS:
            pk = self.next_id("organisation")
            self.org_ids[spec.key] = pk
            self.org_label[pk] = spec.short_name or spec.name
            domain = f"{spec.key}.auental.example"
            rows["organisation"].append(
                {
                    "id": pk,
                    "name": spec.name,
                    "short_name": spec.short_name,
                    "org_type": spec.org_type,
                    "legal_domains": list(spec.legal_domains),
                    "district_id": district_by_code[spec.district],
                    "address": f"{self.pick(pools.STREETS)} {self.rng.randint(1, 80)}, "
                    f"{pools.TOWN}",
                    "email": f"info@{domain}",
                    "phone": f"030 23125 {self.rng.randint(0, 999):03d}",
                    "is_active": True,
                }
            )
        self._staff(rows)
        self._sharing_agreements(rows)
        self._reference = rows
        return rows

    def offers(self) -> Rows:
        """The offer catalogue (generated once). Drawn from a random stream of its own,
        so it leaves every other table of a seed as it was and does not depend on the
        number of persons."""
        if self._offers is not None:
            return self._offers
        ref = self.reference()
        providers = {
            spec.key: Provider(
                id=row["id"],
                key=spec.key,
                name=row["name"],
                short_name=row["short_name"],
                district_id=row["district_id"],
                address=row["address"],
                phone=row["phone"],
            )
            for spec, row in zip(ORGANISATIONS, ref["organisation"], strict=True)
        }
        districts = [
            (row["id"], row["code"], row["name"], weight)
            for row, (_code, _name, weight) in zip(ref["district"], pools.DISTRICTS, strict=True)
        ]
        catalogue = Catalogue(
            Draw(random.Random(f"offers:{self.config.seed}")),
            today=self.today,
            providers=providers,
            districts=districts,
            need_types=self.need_types,
            next_offer_id=lambda: self.next_id("offer"),
            next_link_id=lambda: self.next_id("offer_need_type"),
        )
        self._offers = catalogue.rows()
        return self._offers

    def _staff(self, rows: Rows) -> None:
        n = self.config.persons
        usernames: set[str] = set()

        def user(org_key: str, role: str) -> Staff:
            first, last = self.pick(pools.STAFF_GIVEN), self.pick(pools.STAFF_FAMILY)
            base = ascii_slug(f"{first}.{last}")
            name, k = base, 1
            while name in usernames:
                k += 1
                name = f"{base}{k}"
            usernames.add(name)
            joined = at(self.today - days(self.rng.randint(400, 3500)), 9)
            uid = self.next_id("user")
            self.user_labels[uid] = f"{first} {last}"
            self.user_emails[uid] = f"{name}@{org_key}.auental.example"
            rows["user"].append(
                {
                    "id": uid,
                    "username": name,
                    "first_name": first,
                    "last_name": last,
                    "email": f"{name}@{org_key}.auental.example",
                    "password": UNUSABLE_PASSWORD,
                    "is_active": True,
                    "is_staff": False,
                    "is_superuser": False,
                    "date_joined": joined,
                }
            )
            rows["membership"].append(
                {
                    "id": self.next_id("membership"),
                    "user_id": uid,
                    "organisation_id": self.org_ids[org_key],
                    "role": role,
                    "is_active": True,
                    "created_at": joined,
                }
            )
            return Staff(uid, org_key, f"{first} {last}")

        # About 60 open cases per case manager, at least two per lead agency.
        for spec in ORGANISATIONS:
            if spec.lead_share:
                count = max(2, round(n * 1.05 * spec.lead_share / 60))
                self.case_managers[spec.key] = [
                    user(spec.key, "case_manager") for _ in range(count)
                ]
                user(spec.key, "team_lead")
        total_weight = sum(o.team_weight for o in ORGANISATIONS)
        for spec in ORGANISATIONS:
            if spec.team_weight:
                count = max(1, round(n * 1.5 * spec.team_weight / total_weight / 150))
                self.partner_staff[spec.key] = [
                    user(spec.key, "partner_staff") for _ in range(count)
                ]
        user("ki", "coordinator")
        user("ki", "analyst")
        user("ki", "org_admin")
        for _ in range(max(2, n // 2000)):
            user("ehrenamt", "volunteer")

    def _sharing_agreements(self, rows: Rows) -> None:
        """Agreements / legal bases of the municipality (pools.SHARING_AGREEMENTS)."""
        rows["sharing_agreement"] = []
        valid_from = dt.date(self.today.year - 3, 1, 1)
        for (
            name,
            source,
            receiver,
            receiver_type,
            categories,
            basis,
            owner,
            ends,
        ) in pools.SHARING_AGREEMENTS:
            rows["sharing_agreement"].append(
                {
                    "id": self.next_id("sharing_agreement"),
                    "name": name,
                    "source_organisation_id": self.org_ids[source] if source else None,
                    "source_type": "",
                    "receiver_organisation_id": self.org_ids[receiver] if receiver else None,
                    "receiver_type": receiver_type,
                    "categories": list(categories),
                    "purposes": ["casework"],
                    "legal_basis": basis,
                    "valid_from": valid_from,
                    "valid_to": dt.date(self.today.year + 1, 12, 31) if ends else None,
                    "owner_id": self.org_ids[owner],
                    "created_at": at(valid_from - days(20), 10),
                    "updated_at": at(valid_from - days(20), 10),
                }
            )

    # --- persons -------------------------------------------------------------

    def chunks(self, size: int = 2000) -> Iterator[tuple[int, Rows]]:
        """(persons in chunk, rows) for all persons; households never span chunks."""
        self.reference()
        remaining = self.config.persons
        rows: Rows = {t: [] for t in PERSON_TABLES}
        in_chunk = 0
        while remaining > 0:
            made = self._household(rows, remaining)
            remaining -= made
            in_chunk += made
            if in_chunk >= size:
                yield in_chunk, rows
                rows = {t: [] for t in PERSON_TABLES}
                in_chunk = 0
        if in_chunk:
            yield in_chunk, rows

    def _origin(self) -> Origin:
        return ORIGINS[
            bisect.bisect_right(self.origin_cum, self.rng.random() * self.origin_cum[-1])
        ]

    def _gender(self, origin: Origin) -> str:
        r = self.rng.random()
        if r < 0.01:
            return "diverse"
        return "female" if r < 0.01 + origin.female_share else "male"

    def _age(self) -> int:
        r = self.rng.random()
        if r < 0.70:  # the target group of "Gemeinsam klappt's"
            return self.weighted(
                [
                    (a, w)
                    for a, w in zip(
                        range(18, 28), (7, 9, 11, 11, 11, 11, 10, 10, 10, 10), strict=True
                    )
                ]
            )
        if r < 0.75:
            return self.pick((16, 17))
        return self.weighted([(a, 46 - a) for a in range(28, 46)])

    def _birth(self, age: int) -> dt.date:
        hi = shift_years(self.today, -age)
        lo = shift_years(self.today, -(age + 1)) + days(1)
        return self.day_between(lo, hi)

    def _entry(self, origin: Origin, birth: dt.date) -> dt.date:
        last_year = min(2025, self.today.year)
        years = [
            (y, w) for y, w in origin.entry_years.items() if y <= last_year and y >= birth.year + 12
        ]
        if not years:
            years = [(y, w) for y, w in origin.entry_years.items() if y <= last_year] or [
                (last_year, 1.0)
            ]
        year = self.weighted(years)
        lo = max(
            dt.date(year, 1, 1),
            UKRAINE_WAR if origin.code == "UA" else dt.date(2015, 1, 1),
            birth + days(1),
        )
        hi = min(dt.date(year, 12, 31), self.today - days(45))
        return self.day_between(lo, max(lo, hi))

    def _household(self, rows: Rows, remaining: int) -> int:
        """One person, or a household of two or three (partners, siblings)."""
        origin = self._origin()
        size = 1
        if remaining > 1 and self.chance(0.12):
            size = min(remaining, self.pick((2, 2, 3)))
        if size == 1:
            self._person(rows, origin)
            return 1
        hid = self.next_id("household")
        head = self._person(rows, origin, household=(hid, "head"))
        rows["household"].append(
            {
                "id": hid,
                "label": f"Haushalt {head['family_name']}",
                "created_at": head["created_at"],
            }
        )
        partner = self.chance(0.4) and head["age"] >= 18
        for i in range(1, size):
            if partner and i == 1:
                gender = "female" if head["gender"] == "male" else "male"
                age = max(18, min(45, head["age"] + self.rng.randint(-5, 5)))
                same_family = origin.pool.feminine is not None or origin.code in ("UA", "TR", "GE")
                later = self.chance(0.3)
                self._person(
                    rows,
                    origin,
                    household=(hid, "partner"),
                    gender=gender,
                    age=age,
                    family=head["family_base"] if same_family else None,
                    entry=None if later else head["entry"],
                    district=head["district"],
                    address=head["address"],
                    reunification=later,
                )
            else:
                age = max(16, min(45, head["age"] + self.rng.randint(-6, 6)))
                self._person(
                    rows,
                    origin,
                    household=(hid, "sibling"),
                    age=age,
                    family=head["family_base"],
                    entry=head["entry"],
                    district=head["district"],
                    address=head["address"],
                )
        return size

    def _names(self, pool: NamePool, gender: str, family: str | None) -> tuple[str, str, str]:
        if gender == "diverse":
            given_pool = pool.male if self.chance(0.5) else pool.female
        else:
            given_pool = pool.male if gender == "male" else pool.female
        given = self.pick(given_pool)
        if self.chance(0.08):
            second = self.pick(given_pool)
            if second != given:
                given = f"{given} {second}"
        base = family or self.pick(pool.family)
        shown = base
        if pool.feminine and gender == "female":
            shown = pool.feminine.get(base, base)
        return given, shown, base

    def _person(
        self,
        rows: Rows,
        origin: Origin,
        *,
        household: tuple[int, str] | None = None,
        gender: str | None = None,
        age: int | None = None,
        family: str | None = None,
        entry: dt.date | None = None,
        district: int | None = None,
        address: str | None = None,
        reunification: bool = False,
    ) -> Row:
        rng = self.rng
        pid = self.next_id("person")
        gender = gender or self._gender(origin)
        age = self._age() if age is None else age
        birth = self._birth(age)
        estimated = self.chance(origin.estimated_birth_share)
        if estimated:
            birth = dt.date(birth.year, 1, 1)
        entry = entry or self._entry(origin, birth)
        given, family_name, family_base = self._names(origin.pool, gender, family)
        if district is None:
            district = self.district_ids[
                bisect.bisect_right(self.district_cum, rng.random() * self.district_cum[-1])
            ]

        segments = self._residence_story(origin, birth, entry, reunification)
        status = segments[-1].status
        if address is None:
            if status in ASYLUM or (status in TOLERATED and self.chance(0.5)):
                street = self.pick(pools.SHELTERS)
            else:
                street = f"{self.pick(pools.STREETS)} {rng.randint(1, 120)}"
            address = f"{street}, {pools.TOWN}"

        # Names in other scripts and spellings; search_text as the services compute it.
        other: list[tuple[str, str, str]] = []
        pool = origin.pool
        first_given = given.split(" ")[0]
        if pool.script and self.chance(0.6):
            script_given = " ".join(pool.script.get(g, g) for g in given.split(" "))
            script_family = pool.script.get(family_name, "")
            if script_family:
                other.append(
                    (script_family, script_given, f"Originalschrift ({pool.script_label})")
                )
        variants = pool.variants or {}
        if (first_given in variants or family_name in variants) and self.chance(0.35):
            alt_given = given
            if first_given in variants:
                alt_given = given.replace(first_given, self.pick(variants[first_given]), 1)
            alt_family = (
                self.pick(variants[family_name]) if family_name in variants else family_name
            )
            other.append(
                (
                    alt_family,
                    alt_given,
                    self.pick(
                        (
                            "Schreibweise im Pass",
                            "Schreibweise laut BAMF",
                            "Schreibweise Ankunftsnachweis",
                        )
                    ),
                )
            )
        for fam, giv, note in other:
            rows["person_name"].append(
                {
                    "id": self.next_id("person_name"),
                    "person_id": pid,
                    "family_name": fam,
                    "given_names": giv,
                    "note": note,
                }
            )
        names = [f"{given} {family_name}"] + [f"{giv} {fam}" for fam, giv, _ in other]

        # Languages: first language native, German by time in Germany.
        german = self._german(entry)
        langs: dict[str, str] = {self.weighted(list(origin.first_languages)): "native"}
        for lang, level, p in origin.other_languages:
            if lang not in langs and self.chance(p):
                langs[lang] = level
        langs["de"] = german
        for lang, level in langs.items():
            rows["person_language"].append(
                {
                    "id": self.next_id("person_language"),
                    "person_id": pid,
                    "language": lang,
                    "level": level,
                }
            )

        # School years, for answers and needs.
        school_years = self.weighted(
            [
                (rng.randint(0, 4), 15),
                (rng.randint(5, 8), 25),
                (rng.randint(9, 10), 30),
                (rng.randint(11, 12), 25),
                (rng.randint(13, 16), 5),
            ]
        )

        # Cases first: their dates say who recorded the timelines and when.
        cases = self._cases(pid, age, entry)
        main = cases[-1]
        created = at(cases[0].opened, 9, 0)
        benefits = self._benefit_story(segments, entry, birth)
        profile = Profile(
            age=age,
            gender=gender,
            origin=origin,
            german=german,
            school_years=school_years,
            status=status,
            regime=benefits[-1][1] if benefits else "none",
            doc_expiry=None,
            entry=entry,
            first_language=next(iter(langs)),
        )
        profile.doc_expiry = self._residence_rows(rows, pid, segments, main)
        self._benefit_rows(rows, pid, benefits, main)
        self._person_facts(rows, pid, birth, entry, origin, segments, benefits, main)

        first_step = len(rows["plan_step"])
        for case in cases:
            self._case(rows, case, profile)
        plan_steps = [
            (s["created_at"].astimezone(BERLIN).date(), s["due_date"], s["status"])
            for s in rows["plan_step"][first_step:]
        ]
        self._story(rows, pid, birth, profile, segments, cases, plan_steps)

        person = {
            "id": pid,
            "family_name": family_name,
            "given_names": given,
            "birth_date": birth,
            "birth_date_estimated": estimated,
            "gender": gender,
            "nationality": origin.code,
            "district_id": district,
            "entry_date": entry,
            "phone": f"030 23125 {rng.randint(0, 999):03d}" if self.chance(0.7) else "",
            "email": (
                f"{ascii_slug(first_given)}.{ascii_slug(family_name)}{rng.randint(1, 99)}"
                "@example.org"
            )
            if self.chance(0.3)
            else "",
            "address": address,
            "household_id": household[0] if household else None,
            "household_role": household[1] if household else "",
            "search_text": search_keys(*names),
            "created_at": created,
            "updated_at": max(c.updated or created for c in cases),
        }
        rows["person"].append(person)
        # A copy with what household members share; the row itself stays clean.
        return {
            **person,
            "age": age,
            "entry": entry,
            "family_base": family_base,
            "district": district,
        }

    def _german(self, entry: dt.date) -> str:
        """The level of German, by the years since entry."""
        years_here = (self.today - entry).days / 365.25
        levels, weights = next(
            (levels, weights) for limit, levels, weights in CEFR_BY_YEARS if years_here <= limit
        )
        return str(self.weighted(list(zip(levels, weights, strict=True))))

    # --- residence and benefits --------------------------------------------------

    def _residence_story(
        self, origin: Origin, birth: dt.date, entry: dt.date, reunification: bool
    ) -> list[Segment]:
        rng, today = self.rng, self.today
        segs: list[Segment] = []

        def add(start: dt.date, status: str, authority: str | None = "abh") -> bool:
            if segs and start <= segs[-1].start:
                start = segs[-1].start + days(1)
            if start > today:
                return False
            segs.append(Segment(start, status, authority))
            return True

        if origin.code == "UA":
            start = entry + days(rng.randint(7, 60))
            if self.chance(0.3):
                add(entry, "fiktionsbescheinigung")
                start = entry + days(rng.randint(30, 120))
            add(start, "ae_24")
            return segs
        if reunification or (origin.code in ("SY", "ER", "AF", "XS") and self.chance(0.04)):
            add(entry, "ae_familie")
            self._settle(add, entry + days(rng.randint(1900, 2600)), birth)
            return segs
        add(entry, "ankunftsnachweis", None)
        g_start = entry + days(rng.randint(5, 45))
        add(g_start, "gestattung", None)
        duration = rng.randint(180, 720) if entry.year <= 2016 else rng.randint(150, 600)
        decision = g_start + days(duration)
        if decision > today:
            return segs
        outcome = self.weighted(list(origin.outcomes.items()))
        if outcome == "rejected" and self.chance(0.4):
            # An appeal: the Gestattung lasts through the court procedure.
            decision += days(rng.randint(180, 1000))
            if decision > today:
                return segs
            if self.chance(0.2):
                outcome = "ae_25_3"  # the court finds a ban on deportation
        if outcome != "rejected":
            add(decision, outcome)
            wait = 1100 if outcome in ("ae_25_1", "ae_25_2_gfk") else 1850
            self._settle(add, decision + days(wait + rng.randint(0, 700)), birth)
            return segs
        day = decision + days(rng.randint(20, 120))
        if self.chance(0.05):
            add(day, "ausreisepflichtig")
            day += days(rng.randint(20, 90))
        unclear = origin.code in ("AF", "GN", "NG", "XU", "SO") and self.chance(0.25)
        if not add(day, "duldung_ungeklaerte_identitaet" if unclear else "duldung"):
            return segs
        duldung_from = segs[-1].start
        nxt = duldung_from + days(rng.randint(180, 900))
        r = rng.random()
        if duldung_from <= dt.date(2022, 10, 31) and entry <= dt.date(2017, 10, 31) and r < 0.35:
            # Chancen-Aufenthaltsrecht for persons tolerated for five years on 31.10.2022.
            start = dt.date(2023, 1, 1) + days(rng.randint(0, 540))
            if add(start, "ae_104c") and self.chance(0.5):
                young = age_on(birth, start) <= 27
                add(start + days(rng.randint(400, 540)), "ae_25a" if young else "ae_25b")
            return segs
        if nxt > today:
            return segs
        if r < 0.55 and age_on(birth, nxt) <= 27:
            permit = nxt >= TRAINING_PERMIT_FROM and self.chance(0.5)
            if add(nxt, "ae_16g" if permit else "ausbildungsduldung") and self.chance(0.7):
                add(nxt + days(rng.randint(1090, 1130)), "ae_19d")
        elif r < 0.62 and age_on(birth, nxt) >= 21:
            if add(nxt, "beschaeftigungsduldung") and self.chance(0.5):
                add(nxt + days(rng.randint(900, 1000)), "ae_25b")
        elif r < 0.75 and age_on(birth, nxt) <= 27:
            add(max(nxt, entry + days(3 * 365)), "ae_25a")
        elif r < 0.8:
            add(nxt, "ae_25_5")
        return segs

    def _settle(self, add: Any, day: dt.date, birth: dt.date) -> None:
        if self.chance(0.35) and add(day, "niederlassungserlaubnis") and self.chance(0.15):
            add(day + days(self.rng.randint(700, 1500)), "deutsch", None)

    def _expiry(self, seg: Segment, end: dt.date | None) -> dt.date | None:
        validity = VALIDITY.get(seg.status)
        if validity is None:
            return None
        if seg.status == "ae_24":  # collectively extended to 4 March of each year
            expiry = dt.date(2024, 3, 4)
            while expiry < (end or self.today):
                expiry = shift_years(expiry, 1)
            return expiry
        if end is not None:
            return end if self.chance(0.6) else max(end, seg.start + days(validity))
        expiry = seg.start + days(validity)
        while expiry < self.today:
            expiry += days(validity)
        if self.chance(0.06) and expiry - days(validity) > seg.start:
            expiry -= days(validity)  # expired: extension pending
        return expiry

    def _residence_rows(
        self, rows: Rows, pid: int, segs: list[Segment], case: CaseCtx
    ) -> dt.date | None:
        out = rows["residence_period"]
        expiry: dt.date | None = None
        entries: list[Row] = []
        for i, seg in enumerate(segs):
            end = segs[i + 1].start - days(1) if i + 1 < len(segs) else None
            expiry = self._expiry(seg, end)
            work = WORK.get(seg.status, "allowed")
            if seg.status == "duldung" and seg.authority and self.chance(0.1):
                work = "not_allowed"  # § 60a (6) AufenthG
            entries.append(
                {
                    "id": self.next_id("residence_period"),
                    "person_id": pid,
                    "valid_from": seg.start,
                    "valid_to": end,
                    "supersedes_id": None,
                    "is_retraction": False,
                    "correction_reason": "",
                    "recorded_at": self._recorded(seg.start, case),
                    "recorded_by_id": case.manager.user_id,
                    "status": seg.status,
                    "document_expiry": expiry,
                    "issuing_authority_id": self.org_ids["abh"] if seg.authority else None,
                    "work_permission": work,
                }
            )
        out.extend(entries)
        self._corrections(out, entries, case, "residence_period")
        return expiry

    def _recorded(self, start: dt.date, case: CaseCtx) -> dt.datetime:
        day = max(start, case.opened) + days(self.rng.randint(0, 3))
        return self.moment(min(day, self.yesterday))

    def _corrections(self, out: list[Row], entries: list[Row], case: CaseCtx, table: str) -> None:
        """A few corrected entries, and now and then one entered in error and retracted."""
        if not entries:
            return
        if self.chance(0.03):
            idx = self.rng.randrange(len(entries))
            old = entries[idx]
            new = {
                **old,
                "id": self.next_id(table),
                "supersedes_id": old["id"],
                "recorded_at": min(
                    old["recorded_at"] + days(self.rng.randint(1, 60)), self.past_limit
                ),
            }
            end = old["valid_to"] or self.today
            if table == "residence_period" and old["document_expiry"] and self.chance(0.5):
                new["document_expiry"] = old["document_expiry"] + days(self.rng.randint(1, 90))
                new["correction_reason"] = pools.CORRECTION_REASONS[0]
            elif (end - old["valid_from"]).days > 20:
                # Only later: an earlier start could overlap the period before.
                new["valid_from"] = old["valid_from"] + days(self.rng.randint(1, 14))
                new["correction_reason"] = pools.CORRECTION_REASONS[1]
            elif table == "residence_period":
                new["work_permission"] = "allowed"
                new["correction_reason"] = pools.CORRECTION_REASONS[2]
            else:
                new["correction_reason"] = "Zuständige Stelle korrigiert"
            out.append(new)
        if self.chance(0.005):
            # A period typed with a wrong year: ten years before anything real, then retracted.
            src = entries[0]
            start = shift_years(src["valid_from"], -10)
            wrong = {
                **src,
                "id": self.next_id(table),
                "valid_from": start,
                "valid_to": start + days(self.rng.randint(30, 300)),
            }
            retraction = {
                **wrong,
                "id": self.next_id(table),
                "supersedes_id": wrong["id"],
                "is_retraction": True,
                "correction_reason": "Irrtümlich erfasst (falsches Jahr)",
                "recorded_at": min(wrong["recorded_at"] + days(1), self.past_limit),
            }
            out.extend([wrong, retraction])

    def _benefit_story(
        self, segs: list[Segment], entry: dt.date, birth: dt.date
    ) -> list[tuple[dt.date, str]]:
        rng, today = self.rng, self.today
        after_18 = add_months(entry, 18)
        switch = after_18 if after_18 < ASYLBLG_36_MONTHS_FROM else add_months(entry, 36)
        events: list[tuple[dt.date, str]] = []
        for i, seg in enumerate(segs):
            end = segs[i + 1].start - days(1) if i + 1 < len(segs) else today
            status = seg.status
            if status in ("ausbildungsduldung", "beschaeftigungsduldung") and self.chance(0.6):
                events.append((seg.start, "none"))  # earns a living from training or work
            elif status in ASYLBLG_STATUSES or status == "fiktionsbescheinigung":
                if seg.start < switch:
                    events.append((seg.start, "asylblg_3"))
                    if switch <= end and status != "fiktionsbescheinigung":
                        events.append((switch, "asylblg_2"))
                else:
                    events.append((seg.start, "asylblg_2"))
            elif status == "ae_24":
                if i == 0:  # AsylbLG until the permit (or the Fiktionsbescheinigung)
                    events.append((entry, "asylblg_3"))
                events.append((max(first_of_next_month(seg.start), UKRAINE_SGB2_FROM), "sgb2"))
            elif status in ("niederlassungserlaubnis", "deutsch"):
                events.append((seg.start, "none" if self.chance(0.6) else "sgb2"))
            else:
                start = first_of_next_month(seg.start)
                regime = "sgb2"
                if age_on(birth, start) < 21 and self.chance(0.08):
                    regime = "sgb8"
                elif age_on(birth, start) >= 40 and self.chance(0.1):
                    regime = "sgb12"
                events.append((start, regime))
                if regime == "sgb2" and (end - start).days > 500 and self.chance(0.35):
                    work = start + days(rng.randint(365, (end - start).days))
                    events.append((work, "none"))
                    if (end - work).days > 400 and self.chance(0.15):
                        lost = work + days(rng.randint(200, (end - work).days - 100))
                        events.append((lost, "sgb3"))
                        events.append((lost + days(rng.randint(120, 360)), "none"))
        # Clip, keep the last regime per day, merge repeats.
        merged: list[tuple[dt.date, str]] = []
        for day, regime in sorted((e for e in events if e[0] <= today), key=lambda e: e[0]):
            if merged and merged[-1][0] == day:
                merged[-1] = (day, regime)
            elif not merged or merged[-1][1] != regime:
                merged.append((day, regime))
        dedup: list[tuple[dt.date, str]] = []
        for item in merged:
            if not dedup or dedup[-1][1] != item[1]:
                dedup.append(item)
        return dedup

    def _benefit_rows(
        self, rows: Rows, pid: int, events: list[tuple[dt.date, str]], case: CaseCtx
    ) -> None:
        entries = []
        for i, (start, regime) in enumerate(events):
            end = events[i + 1][0] - days(1) if i + 1 < len(events) else None
            authority = BENEFIT_AUTHORITY.get(regime)
            entries.append(
                {
                    "id": self.next_id("benefit_period"),
                    "person_id": pid,
                    "valid_from": start,
                    "valid_to": end,
                    "supersedes_id": None,
                    "is_retraction": False,
                    "correction_reason": "",
                    "recorded_at": self._recorded(start, case),
                    "recorded_by_id": case.manager.user_id,
                    "regime": regime,
                    "authority_id": self.org_ids[authority] if authority else None,
                }
            )
        rows["benefit_period"].extend(entries)
        self._corrections(rows["benefit_period"], entries, case, "benefit_period")

    # --- cases --------------------------------------------------------------------

    def _lead(self, age: int, exclude: str = "") -> str:
        shares = {o.key: o.lead_share for o in ORGANISATIONS if o.lead_share}
        if age > 27:  # JMD serve up to 27, MBE adults
            shares["jmd1"] = shares["jmd2"] = 0.0
            shares["mbe"] *= 2.5
        else:
            shares["mbe"] *= 0.15
        shares.pop(exclude, None)
        return str(self.weighted(list(shares.items())))

    def _cases(self, pid: int, age: int, entry: dt.date) -> list[CaseCtx]:
        """The person's current case, and for some an earlier closed one elsewhere."""
        rng, today = self.rng, self.today
        earliest = min(entry + days(14), today - days(1))
        phase = self.weighted(PHASES)
        ranges = {
            "intake": (1, 30),
            "assessment": (7, 75),
            "planning": (20, 180),
            "implementation": (60, 1800),
            "evaluation": (365, 1800),
            "closed": (120, 2190),
        }
        lo, hi = ranges[phase]
        opened = max(earliest, today - days(rng.randint(lo, hi)))
        opened = min(opened, self.yesterday)
        closed = None
        reason = ""
        if phase == "closed":
            closed = self.day_between(
                min(opened + days(90), self.yesterday), min(opened + days(1460), self.yesterday)
            )
            reason = self.weighted(CLOSING_REASONS)
        lead = self._lead(age)
        main = CaseCtx(
            self.next_id("case"),
            pid,
            lead,
            self.pick(self.case_managers[lead]),
            phase,
            opened,
            closed,
            reason,
        )
        if self.chance(0.05) and (opened - earliest).days > 240:
            other = self._lead(age, exclude=lead)
            first_open = self.day_between(earliest, opened - days(200))
            first_close = self.day_between(first_open + days(60), opened - days(20))
            earlier = CaseCtx(
                self.next_id("case"),
                pid,
                other,
                self.pick(self.case_managers[other]),
                "closed",
                first_open,
                first_close,
                self.pick(("transferred", "no_contact", "moved_away", "declined")),
            )
            return [earlier, main]
        return [main]

    def _team(self, case: CaseCtx, p: Profile) -> None:
        weights = {k: self.specs[k].team_weight for k in pools.PARTNER_KEYS}
        if p.regime == "sgb2":
            weights["jobcenter"] *= 3
        elif p.regime.startswith("asylblg"):
            weights["jobcenter"] *= 0.2
        if p.status in TOLERATED or p.status in ASYLUM:
            weights["abh"] *= 2.5
        if p.age <= 20:
            weights["jugendamt"] *= 3
            weights["bk"] *= 2
        elif p.age > 27:
            weights["jugendamt"] = 0
            weights["bk"] *= 0.2
        size = self.weighted([(0, 20), (1, 35), (2, 30), (3, 15)])
        if case.closed and case.phase == "closed" and case.reason in ("no_contact", "declined"):
            size = min(size, 1)
        chosen: list[str] = []
        for _ in range(size):
            options = [(k, w) for k, w in weights.items() if k not in chosen and w > 0]
            if not options:
                break
            chosen.append(self.weighted(options))
        for key in chosen:
            case.team.append(self.pick(self.partner_staff[key]))

    def _case(self, rows: Rows, case: CaseCtx, p: Profile) -> None:
        last_day = case.closed or self.yesterday
        self._team(case, p)
        case.touch(at(case.opened, 9))
        members: list[tuple[Staff, dt.datetime, dt.datetime | None]] = []
        for member in case.team:
            added = self.moment(
                self.day_between(case.opened, min(case.opened + days(60), last_day))
            )
            removed = None
            if self.chance(0.05):
                removed = self.moment(self.day_between(added.date(), last_day))
            rows["case_team_member"].append(
                {
                    "id": self.next_id("case_team_member"),
                    "case_id": case.id,
                    "user_id": member.user_id,
                    "organisation_id": self.org_ids[member.org_key],
                    "team_role": self.specs[member.org_key].team_role,
                    "added_at": added,
                    "added_by_id": case.manager.user_id,
                    "removed_at": removed,
                }
            )
            members.append((member, added, removed))
            case.touch(added)
        plan_id = self.next_id("integration_plan")

        # How far the casework got: 0 nothing, 1 intake, 2 assessment, 3 goals, 4 agreed plan.
        stage = {
            "intake": 0,
            "assessment": 1,
            "planning": 2,
            "implementation": 4,
            "evaluation": 4,
        }.get(case.phase, 0)
        if case.phase == "planning" and self.chance(0.7):
            stage = 3
        if case.phase == "closed":
            stage = self.weighted([(1, 20), (2, 15), (4, 65)])
            if (last_day - case.opened).days < 60:
                stage = min(stage, 1)

        intake_on = None
        if stage >= 1:
            intake_on = self.day_between(case.opened, min(case.opened + days(21), last_day))
            self._intake(rows, case, p, intake_on)
        assessments: list[tuple[int, dt.date, list[Row]]] = []
        if case.phase == "assessment" and intake_on and self.chance(0.4):
            day = self.day_between(intake_on, min(intake_on + days(30), last_day))
            assessments.append(self._assessment(rows, case, p, day, with_items=False))
        if stage >= 2 and intake_on:
            day = self.day_between(intake_on + days(7), min(intake_on + days(45), last_day))
            day = min(day, last_day)
            assessments.append(self._assessment(rows, case, p, day))
        goals: list[Row] = []
        steps: dict[int, list[Row]] = {}
        if stage >= 3 and assessments:
            _aid, assessed_on, items = assessments[-1]
            goals, steps = self._plan(rows, case, plan_id, assessed_on, items, last_day)
        if stage >= 4 and goals:
            created = max(g["created_at"].date() for g in goals)
            v1 = self.day_between(created, min(created + days(14), last_day))
            versions = [v1]
            if (last_day - v1).days > 200 and self.chance(0.45):
                # A follow-up assessment, then the plan agreed anew.
                second = self.day_between(v1 + days(120), min(v1 + days(400), last_day))
                reassessed = self.day_between(max(v1 + days(1), second - days(20)), second)
                assessments.append(self._assessment(rows, case, p, reassessed))
                versions.append(second)
            for number, agreed in enumerate(versions, start=1):
                rows["plan_version"].append(
                    {
                        "id": self.next_id("plan_version"),
                        "plan_id": plan_id,
                        "number": number,
                        "agreed_on": agreed,
                        "agreed_by_id": case.manager.user_id,
                        "remarks": self.pick(pools.PLAN_REMARKS),
                        "snapshot": self._snapshot(goals, steps, agreed),
                        "created_at": self.moment(agreed),
                    }
                )
                case.touch(self.moment(agreed))
        self._appointments(rows, case, intake_on, last_day)
        self._notes(rows, case, last_day)
        self._followups(rows, case, p, last_day)
        self._privacy(rows, case, p, members)
        rows["integration_plan"].append(
            {"id": plan_id, "case_id": case.id, "updated_at": case.updated}
        )
        rows["case"].append(
            {
                "id": case.id,
                "person_id": case.person_id,
                "lead_organisation_id": self.org_ids[case.lead],
                "case_manager_id": case.manager.user_id,
                "phase": case.phase,
                "opened_on": case.opened,
                "closed_on": case.closed,
                "closing_reason": case.reason,
                "closing_note": pools.CLOSING_NOTES.get(case.reason, "") if case.closed else "",
                "created_at": at(case.opened, 9),
                "updated_at": case.updated,
            }
        )

    # --- intake and assessment ---------------------------------------------------

    def _intake(self, rows: Rows, case: CaseCtx, p: Profile, day: dt.date) -> None:
        answers = [
            {
                "key": q.key,
                "section": q.section,
                "question": q.text,
                "value": self._answer(q, p, case),
            }
            for q in self.guide
        ]
        interpreter = ""
        if p.german in ("none", "A1") and self.chance(0.6):
            interpreter = self.pick([lang for lang, _ in p.origin.first_languages])
        moment = self.moment(day)
        rows["intake"].append(
            {
                "id": self.next_id("intake"),
                "case_id": case.id,
                "guide_id": self.config.guide_id,
                "conducted_on": day,
                "conducted_by_id": case.manager.user_id,
                "interpreter_language": interpreter,
                "answers": answers,
                "created_at": moment,
            }
        )
        case.touch(moment)

    def _answer(self, q: GuideQuestion, p: Profile, case: CaseCtx) -> Any:
        rng = self.rng
        if not q.required and self.chance(0.12):
            return None
        key, choices = q.key, list(q.choices)
        if key == "school_years":
            return p.school_years
        if key == "school_certificate" and choices:
            if self.chance(0.1):
                wanted = "unklar"
            elif p.school_years < 4:
                wanted = "keiner"
            elif p.school_years < 7:
                wanted = "Grundschule"
            elif p.school_years >= 12 and self.chance(0.7):
                wanted = "Abitur / Hochschulreife"
            else:
                wanted = "Mittelschule / 9–10 Jahre"
            return wanted if wanted in choices else self.pick(choices)
        if key == "certificate_documents":
            return p.school_years >= 6 and self.chance(0.6)
        if key == "support_needs" and choices:
            picked = ["Deutsch lernen"] if p.german in ("none", "A1", "A2") else []
            picked += ["Ausbildung"] if p.age <= 27 else ["Arbeit"]
            if p.status in TOLERATED or p.status in ASYLUM:
                picked.append("Aufenthalt")
            picked += [c for c in choices if self.chance(0.15)]
            return [c for c in choices if c in picked]
        if key == "agencies_involved" and choices:
            known = {
                "jobcenter": "Jobcenter",
                "agentur": "Agentur für Arbeit",
                "abh": "Ausländerbehörde",
                "jugendamt": "Jugendamt",
                "bk": "Schule / Berufskolleg",
            }
            picked = [known[m.org_key] for m in case.team if m.org_key in known]
            if p.regime.startswith("asylblg"):
                picked.append("Sozialamt")
            if case.lead.startswith("jmd"):
                picked.append("Jugendmigrationsdienst")
            return [c for c in choices if c in picked]
        if key == "consent_to_team":
            return bool(case.team) or self.chance(0.7)
        texts = {
            "qualifications": pools.QUALIFICATIONS,
            "vocational_experience": pools.EXPERIENCE,
            "german_courses": pools.GERMAN_COURSES,
            "goals_short": pools.GOALS_SHORT,
            "goals_long": pools.GOALS_LONG,
            "own_view_cooperation": pools.OWN_VIEW,
        }
        if key in texts:
            return self.pick(texts[key])
        # A question an administrator added: a plausible answer of its kind.
        if q.kind == "number":
            return rng.randint(0, 10)
        if q.kind == "yes_no":
            return self.chance(0.5)
        if q.kind == "choice" and choices:
            return self.pick(choices)
        if q.kind == "multi_choice" and choices:
            return [c for c in choices if self.chance(0.3)]
        return self.pick(pools.GENERIC_TEXT)

    def _need_weights(self, p: Profile) -> list[tuple[str, float]]:
        w: dict[str, float] = {GERMAN_NEED[p.german]: 8 if p.german in ("none", "A1", "A2") else 4}
        if p.school_years < 4:
            w["alphabetisierung"] = 5
        if p.school_years < 9 and p.age <= 25:
            w["schulabschluss"] = 5
        if p.age <= 18:
            w["schulplatz"] = 4
        if p.school_years >= 12:
            w["anerkennung"] = 2
        if p.age <= 27:
            w.update(
                berufsorientierung=3,
                ausbildungsvorbereitung=3,
                ausbildungsplatz=4,
                einstiegsqualifizierung=1.5,
            )
            if p.status in ("ausbildungsduldung", "ae_16g"):
                w["ausbildungsbegleitung"] = 5
        else:
            w["arbeitsplatz"] = 5
        if p.status in TOLERATED or p.status in ASYLUM:
            w["aufenthaltsperspektive"] = 6
            w["beschaeftigungserlaubnis"] = 2
            if p.status == "duldung_ungeklaerte_identitaet":
                w["identitaetsklaerung"] = 6
        w["wohnung"] = 3 if p.status in ASYLUM or p.status in TOLERATED else 1.5
        w.update(
            gesundheit=1,
            psychosozial=1.2,
            leistungen=1.5,
            schulden=0.5,
            freizeit=1.5,
            mentoring=1.5,
        )
        if p.status.startswith("ae_25_2") or p.status == "ae_25_1":
            w["familie"] = 2
        if p.gender == "female" and p.age >= 22:
            w["kinderbetreuung"] = 1.5
        return [(code, weight) for code, weight in w.items() if code in self.need_types]

    def _assessment(
        self, rows: Rows, case: CaseCtx, p: Profile, day: dt.date, with_items: bool = True
    ) -> tuple[int, dt.date, list[Row]]:
        aid = self.next_id("assessment")
        moment = self.moment(day)
        rows["assessment"].append(
            {
                "id": aid,
                "case_id": case.id,
                "assessed_on": day,
                "assessed_by_id": case.manager.user_id,
                "summary": self.pick(pools.ASSESSMENT_SUMMARIES),
                "created_at": moment,
            }
        )
        case.touch(moment)
        items: list[Row] = []
        if not with_items:
            return aid, day, items
        for domain, text in self.rng.sample(pools.STRENGTHS, self.rng.randint(1, 3)):
            items.append(
                {
                    "id": self.next_id("assessment_item"),
                    "assessment_id": aid,
                    "life_domain": domain,
                    "kind": "strength",
                    "description": text,
                    "need_type": None,
                    "priority": "",
                    "status": "open",
                }
            )
        options = self._need_weights(p)
        age_days = (self.today - day).days
        if case.phase in ("evaluation", "closed"):
            statuses = [("met", 50), ("in_progress", 20), ("dropped", 15), ("open", 15)]
        elif age_days > 300:
            statuses = [("met", 35), ("in_progress", 35), ("dropped", 10), ("open", 20)]
        else:
            statuses = [("open", 45), ("in_progress", 40), ("met", 10), ("dropped", 5)]
        for _ in range(self.rng.randint(2, 5)):
            if not options:
                break
            code = self.weighted(options)
            options = [o for o in options if o[0] != code]
            need = self.need_types[code]
            detail = self.pick(pools.NEED_DETAILS)
            items.append(
                {
                    "id": self.next_id("assessment_item"),
                    "assessment_id": aid,
                    "life_domain": need.life_domain,
                    "kind": "need",
                    "description": f"{need.name}: {detail}" if detail else need.name,
                    "need_type": code,
                    "priority": self.weighted([("high", 35), ("medium", 45), ("low", 20)]),
                    "status": self.weighted(statuses),
                }
            )
        rows["assessment_item"].extend(items)
        case.needs = [(i["need_type"], i["status"]) for i in items if i["kind"] == "need"]
        return aid, day, items

    # --- plan -----------------------------------------------------------------------

    def _plan(
        self,
        rows: Rows,
        case: CaseCtx,
        plan_id: int,
        assessed_on: dt.date,
        items: list[Row],
        last_day: dt.date,
    ) -> tuple[list[Row], dict[int, list[Row]]]:
        needs = [i for i in items if i["kind"] == "need"]
        needs.sort(key=lambda i: {"high": 0, "medium": 1, "low": 2}[i["priority"]])
        goals: list[Row] = []
        steps: dict[int, list[Row]] = {}
        created_day = self.day_between(assessed_on, min(assessed_on + days(14), last_day))
        team_by_org = {m.org_key: m for m in case.team}
        for need in needs[: self.rng.randint(1, 3)]:
            code = need["need_type"]
            title, step_specs = pools.NEED_GOALS.get(
                code,
                (
                    self.need_types[code].name,
                    [("Nächste Schritte klären", "lead"), ("Termin wahrnehmen", "client")],
                ),
            )
            target = created_day + days(self.rng.randint(90, 540))
            if case.phase == "evaluation":
                status = self.weighted([("achieved", 70), ("open", 20), ("dropped", 10)])
            elif case.phase == "closed":
                status = self.weighted([("achieved", 60), ("dropped", 40)])
            elif target < self.today:
                status = self.weighted([("achieved", 45), ("open", 40), ("dropped", 15)])
            else:
                status = self.weighted([("open", 85), ("achieved", 15)])
            gid = self.next_id("plan_goal")
            goal = {
                "id": gid,
                "plan_id": plan_id,
                "life_domain": need["life_domain"],
                "title": title,
                "target_date": target,
                "status": status,
                "created_at": self.moment(created_day),
            }
            goals.append(goal)
            steps[gid] = []
            n_steps = self.rng.randint(1, len(step_specs))
            for s_title, who in step_specs[:n_steps]:
                due = self.day_between(created_day + days(7), target)
                step = {
                    "id": self.next_id("plan_step"),
                    "goal_id": gid,
                    "title": s_title,
                    "responsible_organisation_id": None,
                    "responsible_user_id": None,
                    "responsible_is_client": who == "client",
                    "due_date": due,
                    "created_at": goal["created_at"],
                }
                if who == "lead":
                    step["responsible_organisation_id"] = self.org_ids[case.lead]
                    step["responsible_user_id"] = case.manager.user_id
                elif who != "client":
                    step["responsible_organisation_id"] = self.org_ids[who]
                    member = team_by_org.get(who)
                    if member and self.chance(0.6):
                        step["responsible_user_id"] = member.user_id
                if status == "achieved":
                    step["status"] = "done"
                elif status == "dropped":
                    step["status"] = self.weighted([("cancelled", 60), ("done", 40)])
                elif due < self.today:
                    step["status"] = self.weighted(
                        [("done", 70), ("cancelled", 10), ("in_progress", 10), ("open", 10)]
                    )
                else:
                    step["status"] = self.weighted([("open", 60), ("in_progress", 40)])
                steps[gid].append(step)
            case.touch(goal["created_at"])
        rows["plan_goal"].extend(goals)
        for gid in steps:
            rows["plan_step"].extend(steps[gid])
        return goals, steps

    def _snapshot(
        self, goals: list[Row], steps: dict[int, list[Row]], agreed: dt.date
    ) -> dict[str, Any]:
        """The plan as `casework.services.plan_snapshot` records it, as of `agreed`."""
        out = []
        for g in sorted(goals, key=lambda g: (g["target_date"], g["id"])):
            goal_status = g["status"] if g["target_date"] <= agreed else "open"
            g_steps = []
            for s in sorted(steps[g["id"]], key=lambda s: (s["due_date"], s["id"])):
                status = s["status"]
                if s["due_date"] >= agreed and status in ("done", "cancelled"):
                    status = "open"
                g_steps.append(
                    {
                        "id": s["id"],
                        "title": s["title"],
                        "responsible_organisation": self.org_label.get(
                            s["responsible_organisation_id"] or 0, ""
                        ),
                        "responsible_user": self.user_labels.get(s["responsible_user_id"] or 0, ""),
                        "responsible_is_client": s["responsible_is_client"],
                        "due_date": s["due_date"].isoformat(),
                        "status": status,
                    }
                )
            out.append(
                {
                    "id": g["id"],
                    "life_domain": g["life_domain"],
                    "title": g["title"],
                    "target_date": g["target_date"].isoformat(),
                    "status": goal_status,
                    "steps": g_steps,
                }
            )
        return {"goals": out}

    # --- appointments, notes, follow-ups --------------------------------------------

    def _workday(self, day: dt.date, forward: bool) -> dt.date:
        while day.weekday() >= 5:
            day += days(1 if forward else -1)
        return day

    def _appointments(
        self, rows: Rows, case: CaseCtx, intake_on: dt.date | None, last_day: dt.date
    ) -> None:
        rng = self.rng
        out = rows["appointment"]
        span = (last_day - case.opened).days
        past: list[tuple[dt.date, str, Staff | None]] = []
        if intake_on:
            past.append((intake_on, "Erstgespräch", None))
        if case.phase != "intake":
            count = max(0, min(8, span // 75 + rng.randint(-1, 1)))
            for _ in range(count):
                day = self.day_between(case.opened, last_day)
                partner = self.pick(case.team) if case.team and self.chance(0.3) else None
                past.append((day, "", partner))
        seen: set[tuple[dt.datetime, str]] = set()
        for day, purpose, partner in past:
            day = self._workday(day, forward=False)
            if day < case.opened:
                day = case.opened
            org_type = self.specs[partner.org_key].org_type if partner else "lead"
            purpose = purpose or self.pick(
                pools.APPOINTMENT_PURPOSES.get(org_type, pools.APPOINTMENT_PURPOSES["lead"])
            )
            starts = at(day, rng.randint(8, 15), self.pick((0, 30)))
            if (starts, purpose) in seen:
                continue
            seen.add((starts, purpose))
            status = (
                "held"
                if purpose == "Erstgespräch"
                else self.weighted([("held", 75), ("missed", 13), ("cancelled", 12)])
            )
            created = max(at(case.opened, 8), starts - days(rng.randint(1, 14)))
            updated = min(starts + dt.timedelta(hours=2), self.past_limit)
            out.append(
                {
                    "id": self.next_id("appointment"),
                    "case_id": case.id,
                    "organisation_id": self.org_ids[partner.org_key if partner else case.lead],
                    "starts_at": starts,
                    "purpose": purpose,
                    "location": self.pick(pools.LOCATIONS),
                    "status": status,
                    "outcome": self.pick(pools.OUTCOMES) if status == "held" else "",
                    "agreements": self.pick(pools.AGREEMENTS) if status == "held" else "",
                    "created_by_id": partner.user_id if partner else case.manager.user_id,
                    "created_at": min(created, updated),
                    "updated_at": updated,
                }
            )
            case.touch(min(updated, self.past_limit))
        if case.closed:
            return
        planned = 1 if case.phase == "intake" else self.weighted([(0, 45), (1, 40), (2, 15)])
        for i in range(planned):
            day = self._workday(self.today + days(rng.randint(1, 42 if i else 21)), forward=True)
            purpose = (
                "Erstgespräch"
                if case.phase == "intake"
                else self.pick(pools.APPOINTMENT_PURPOSES["lead"])
            )
            starts = at(day, rng.randint(8, 15), self.pick((0, 30)))
            if (starts, purpose) in seen:
                continue
            seen.add((starts, purpose))
            created = self.moment(
                self.day_between(max(case.opened, self.today - days(14)), self.yesterday)
            )
            out.append(
                {
                    "id": self.next_id("appointment"),
                    "case_id": case.id,
                    "organisation_id": self.org_ids[case.lead],
                    "starts_at": starts,
                    "purpose": purpose,
                    "location": self.pick(pools.LOCATIONS),
                    "status": "planned",
                    "outcome": "",
                    "agreements": "",
                    "created_by_id": case.manager.user_id,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            case.touch(created)

    def _notes(self, rows: Rows, case: CaseCtx, last_day: dt.date) -> None:
        span = (last_day - case.opened).days
        count = max(0, min(6, span // 90 + self.rng.randint(0, 2)))
        for _ in range(count):
            author = self.pick(case.team) if case.team and self.chance(0.25) else None
            if author:
                visibility = self.weighted([("case_team", 80), ("organisation", 20)])
            else:
                visibility = self.weighted([("organisation", 60), ("case_team", 40)])
            sensitive = self.chance(0.04)
            moment = self.moment(self.day_between(case.opened, last_day))
            rows["note"].append(
                {
                    "id": self.next_id("note"),
                    "case_id": case.id,
                    "author_id": author.user_id if author else case.manager.user_id,
                    "organisation_id": self.org_ids[author.org_key if author else case.lead],
                    "text": self.pick(pools.SENSITIVE_NOTES if sensitive else pools.NOTES),
                    "visibility": visibility,
                    "is_sensitive": sensitive,
                    "created_at": moment,
                }
            )
            case.touch(moment)

    def _followups(self, rows: Rows, case: CaseCtx, p: Profile, last_day: dt.date) -> None:
        rng = self.rng
        items: list[tuple[str, dt.date, bool]] = []
        if case.closed:
            for _ in range(rng.randint(0, 2)):
                due = self.day_between(min(case.opened + days(7), last_day), last_day)
                items.append((self.pick(pools.FOLLOWUPS), due, True))
        else:
            for _ in range(rng.randint(1, 3) if case.phase != "intake" else rng.randint(0, 1)):
                kind = self.weighted([("overdue", 15), ("upcoming", 50), ("done", 35)])
                if kind == "overdue":
                    due = self.day_between(max(case.opened, self.today - days(30)), self.yesterday)
                elif kind == "upcoming":
                    due = self.today + days(rng.randint(0, 60))
                else:
                    due = self.day_between(case.opened, self.yesterday)
                items.append((self.pick(pools.FOLLOWUPS), due, kind == "done"))
            expiry = p.doc_expiry
            if expiry and self.today - days(30) <= expiry <= self.today + days(90):
                items.append((pools.FOLLOWUPS[0], max(case.opened, expiry - days(28)), False))
        seen: set[tuple[str, dt.date]] = set()
        for title, due, done in items:
            if (title, due) in seen:
                continue
            seen.add((title, due))
            created = max(at(case.opened, 10), self.moment(due - days(rng.randint(7, 30))))
            done_at = None
            if done:
                done_day = min(due + days(rng.randint(-5, 3)), self.yesterday)
                done_at = min(max(created, self.moment(done_day)), self.past_limit)
                case.touch(done_at)
            case.touch(min(created, self.past_limit))
            rows["followup"].append(
                {
                    "id": self.next_id("followup"),
                    "case_id": case.id,
                    "title": title,
                    "due_on": due,
                    "owner_id": case.manager.user_id,
                    "organisation_id": self.org_ids[case.lead],
                    "done_at": done_at,
                    "done_by_id": case.manager.user_id if done else None,
                    "created_by_id": case.manager.user_id,
                    "created_at": min(created, self.past_limit),
                }
            )

    # --- consents and emergency access (DESIGN §5; own random stream) ---------------

    def _privacy(
        self,
        rows: Rows,
        case: CaseCtx,
        p: Profile,
        members: list[tuple[Staff, dt.datetime, dt.datetime | None]],
    ) -> None:
        """Consents for each team member's organisation, now and then a consent to a
        referral, and rarely an emergency access."""
        d = self.draw
        for member, added, removed in members:
            self._member_consents(rows, case, p, member, added, removed)
        last_day = case.closed or self.yesterday
        if case.phase not in ("intake", "assessment") and d.chance(REFERRAL_SHARE):
            key = d.weighted(
                [(o.key, o.team_weight) for o in ORGANISATIONS if o.org_type == "bildungstraeger"]
            )
            signed = d.day_between(min(case.opened + days(14), last_day), last_day)
            months = d.pick((6, 12))
            self._consent(
                rows,
                case,
                p,
                purpose="referral",
                org_key=key,
                categories=list(pools.REFERRAL_CATEGORIES),
                named=None,
                signed=signed,
                until=add_months(signed, months) - days(1),
            )
        if case.phase != "intake" and d.chance(BREAK_GLASS_SHARE):
            self._break_glass(rows, case, last_day)

    def _consent_categories(self, org_type: str, partial: bool) -> list[str]:
        d = self.draw
        base, optional = pools.CONSENT_CATEGORIES.get(
            org_type, (pools.CONSENT_DEFAULT_CATEGORIES, ())
        )
        full = list(base) + [c for c, share in optional if d.chance(share)]
        if not partial:
            return full
        others = [c for c in full if c != "master"]
        keep: set[str] = set()
        if len(others) > 1:
            keep = set(d.rng.sample(others, d.rng.randint(1, len(others) - 1)))
        return [c for c in full if c == "master" or c in keep]

    def _consent_until(self, signed: dt.date) -> dt.date | None:
        years = self.draw.weighted(CONSENT_YEARS)
        return shift_years(signed, years) - days(1) if years else None

    def _member_consents(
        self,
        rows: Rows,
        case: CaseCtx,
        p: Profile,
        member: Staff,
        added: dt.datetime,
        removed: dt.datetime | None,
    ) -> None:
        """Signed just before the member joined; renewed before each expiry while the
        membership lasts; the latest one withdrawn, expired or valid."""
        d = self.draw
        state = d.weighted(CONSENT_STATES)
        org_type = self.specs[member.org_key].org_type
        categories = self._consent_categories(org_type, partial=d.chance(PARTIAL_SHARE))
        named = member.user_id if d.chance(NAMED_SHARE) else None
        end = removed.date() if removed else (case.closed or self.yesterday)
        active = removed is None and case.closed is None
        signed = d.day_between(max(case.opened, added.date() - days(14)), added.date())
        chain: list[tuple[dt.date, dt.date | None]] = []
        while True:
            until = self._consent_until(signed)
            chain.append((signed, until))
            if until is None or until >= end:
                break
            signed = d.day_between(max(signed, until - days(RENEWAL_DAYS)), until)
        if state == "expired" and active:
            signed, _until = chain[-1]
            lo = max(signed, self.today - days(EXPIRED_WITHIN_DAYS))
            chain[-1] = (signed, d.day_between(lo, self.yesterday))
        for n, (signed, until) in enumerate(chain, start=1):
            row = self._consent(
                rows,
                case,
                p,
                purpose="casework",
                org_key=member.org_key,
                categories=categories,
                named=named,
                signed=signed,
                until=until,
            )
            if n == len(chain) and state == "withdrawn":
                day = d.day_between(signed, min(until or end, end))
                row["withdrawn_at"] = max(
                    row["recorded_at"], d.moment_until(day, self.past_limit, (8, 18))
                )
                row["withdrawn_by_id"] = case.manager.user_id
                row["withdrawal_note"] = d.pick(pools.WITHDRAWAL_NOTES)

    def _consent(
        self,
        rows: Rows,
        case: CaseCtx,
        p: Profile,
        *,
        purpose: str,
        org_key: str,
        categories: list[str],
        named: int | None,
        signed: dt.date,
        until: dt.date | None,
    ) -> Row:
        d = self.draw
        interpreter = ""
        if p.german in NON_GERMAN_SPEAKERS and d.chance(INTERPRETER_SHARE):
            # "other" names no language an interpreter could be booked for.
            interpreter = p.first_language if p.first_language != "other" else ""
        cid = self.next_id("consent")
        row: Row = {
            "id": cid,
            "person_id": case.person_id,
            "purpose": purpose,
            "categories": list(categories),
            "signed_on": signed,
            "valid_until": until,
            "interpreter_language": interpreter,
            "form_language": pools.FORM_LANGUAGE.get(p.first_language, "de"),
            "document_id": None,
            "recorded_by_id": case.manager.user_id,
            "recorded_for_id": self.org_ids[case.lead],
            "recorded_at": d.moment_until(signed, self.past_limit),
            "withdrawn_at": None,
            "withdrawn_by_id": None,
            "withdrawal_note": "",
        }
        rows["consent"].append(row)
        rows["consent_receiving_organisation"].append(
            {
                "id": self.next_id("consent_receiving_organisation"),
                "consent_id": cid,
                "organisation_id": self.org_ids[org_key],
            }
        )
        if named is not None:
            rows["consent_named_user"].append(
                {"id": self.next_id("consent_named_user"), "consent_id": cid, "user_id": named}
            )
        return row

    def _break_glass(self, rows: Rows, case: CaseCtx, last_day: dt.date) -> None:
        """An emergency access of a partner's staff member, long expired."""
        d = self.draw
        hi = min(last_day, self.today - days(3))
        if hi < case.opened:
            return
        key = d.pick(sorted(pools.BREAK_GLASS_REASONS))
        staff = d.pick(self.partner_staff[key])
        granted = d.moment_until(d.day_between(case.opened, hi), self.past_limit, (7, 21))
        rows["break_glass_access"].append(
            {
                "id": self.next_id("break_glass_access"),
                "case_id": case.id,
                "user_id": staff.user_id,
                "organisation_id": self.org_ids[key],
                "reason": d.pick(pools.BREAK_GLASS_REASONS[key]),
                "granted_at": granted,
                "expires_at": granted + dt.timedelta(hours=d.pick((4, 8, 24))),
            }
        )

    # --- referral and participation histories (own random stream per person) ---------

    @property
    def histories(self) -> Histories:
        """The story teller, with the reference data and the catalogue it places in."""
        if self._histories is None:
            ref, offers = self.reference(), self.offers()
            receiving = {**self.case_managers, **self.partner_staff}
            world = World(
                seed=self.config.seed,
                today=self.today,
                past_limit=self.past_limit,
                org_ids=self.org_ids,
                organisations={
                    spec.key: row
                    for spec, row in zip(ORGANISATIONS, ref["organisation"], strict=True)
                },
                staff={
                    key: [StoryStaff(s.user_id, s.org_key, s.label) for s in staff]
                    for key, staff in receiving.items()
                },
                user_email=self.user_emails,
                need_codes=frozenset(self.need_types),
                offers=offers["offer"],
                next_id=self.next_id,
                plant_share=self.config.plant_share,
            )
            self._histories = Histories(world)
        return self._histories

    def _story(
        self,
        rows: Rows,
        pid: int,
        birth: dt.date,
        p: Profile,
        segments: list[Segment],
        cases: list[CaseCtx],
        plan_steps: Sequence[tuple[dt.date, dt.date | None, str]] = (),
    ) -> None:
        """The person's courses and measures, the referrals they came from and those
        open today (participations.py), from a random stream of the person's own."""
        facts = rows["eligibility_personfacts"]
        training = facts[-1]["training_since"] if facts and facts[-1]["person_id"] == pid else None
        mine = []
        for c in reversed(rows["consent"]):  # the person's consents come last
            if c["person_id"] != pid:
                break
            mine.append(c)
        ids = {c["id"] for c in mine}
        receivers: dict[int, int] = {}
        for link in reversed(rows["consent_receiving_organisation"]):
            if link["consent_id"] not in ids:
                break
            receivers[link["consent_id"]] = link["organisation_id"]
        consents: list[ReferralConsent] = []
        for c in reversed(mine):
            if c["purpose"] == "referral" and c["id"] in receivers:
                consents.append(
                    (
                        None,
                        receivers[c["id"]],
                        tuple(c["categories"]),
                        c["signed_on"],
                        c["valid_until"],
                        c["withdrawn_at"],
                    )
                )
        person = StoryPerson(
            id=pid,
            birth=birth,
            entry=p.entry,
            gender=p.gender,
            german=p.german,
            school_years=p.school_years,
            first_language=p.first_language,
            segments=[(seg.start, seg.status) for seg in segments],
            cases=[
                StoryCase(
                    id=c.id,
                    lead=c.lead,
                    manager=StoryStaff(c.manager.user_id, c.manager.org_key, c.manager.label),
                    phase=c.phase,
                    opened=c.opened,
                    closed=c.closed,
                    reason=c.reason,
                    needs=list(c.needs),
                )
                for c in cases
            ],
            training_since=training,
            plan_steps=plan_steps,
            referral_consents=consents,
        )
        d = Draw(random.Random(f"participations:{self.config.seed}:{pid}"))
        self.histories.person(rows, person, d)

    @property
    def labels(self) -> list[Row]:
        """The planted patterns of the persons generated so far (#6), one label each:
        ``person_id, rule, label ("positive" or "decoy"), participation_ids,
        referral_ids, note`` (local ids, as in the rows)."""
        return self.histories.labels

    def occupancy(self) -> dict[int, tuple[int, dt.datetime | None]]:
        """Per offer of the catalogue: participations running in it today, and when the
        last one started or ended (None: none did), for the persons generated so far."""
        h = self.histories
        return {
            o["id"]: (h.w.running[o["id"]], h.w.changed.get(o["id"]))
            for o in self.offers()["offer"]
        }

    def offers_occupied(self) -> list[Row]:
        """The offer rows with `occupied` as the participations say (after all chunks);
        `updated_at` moves to the last start or end in the offer."""
        occupancy = self.occupancy()
        out = []
        for o in self.offers()["offer"]:
            running, changed = occupancy[o["id"]]
            updated = max(o["updated_at"], changed) if changed else o["updated_at"]
            out.append({**o, "occupied": running, "updated_at": updated})
        return out

    # --- facts for the eligibility check (own random stream) -------------------------

    def _person_facts(
        self,
        rows: Rows,
        pid: int,
        birth: dt.date,
        entry: dt.date,
        origin: Origin,
        segments: list[Segment],
        benefits: list[tuple[dt.date, str]],
        case: CaseCtx,
    ) -> None:
        """The person's row of `eligibility_personfacts`, if the case manager keeps one."""
        d = self.facts_draw
        facts = eligibility_facts(
            d,
            today=self.today,
            birth=birth,
            entry=entry,
            nationality=origin.code,
            segments=segments,
            benefits=benefits,
            work_ban=self._work_ban(rows, pid),
        )
        if facts is None:
            return
        day = d.day_between(min(case.opened, self.yesterday), self.yesterday)
        rows["eligibility_personfacts"].append(
            {
                "id": self.next_id("eligibility_personfacts"),
                "person_id": pid,
                **facts,
                "updated_at": d.moment_until(day, self.past_limit),
                "updated_by_id": case.manager.user_id,
            }
        )

    @staticmethod
    def _work_ban(rows: Rows, pid: int) -> bool:
        """Whether the person's current residence entry records a § 60a (6) work ban."""
        entries = []
        for e in reversed(rows["residence_period"]):  # the person's entries come last
            if e["person_id"] != pid:
                break
            entries.append(e)
        superseded = {e["supersedes_id"] for e in entries if e["supersedes_id"]}
        return any(
            e["valid_to"] is None
            and e["id"] not in superseded
            and not e["is_retraction"]
            and e["status"] == "duldung"
            and e["work_permission"] == "not_allowed"
            for e in entries
        )


# --- facts for the eligibility check --------------------------------------------------

# Persons with these current statuses always have a row of eligibility_personfacts
# (their access depends on the flags); of the others, FACTS_OTHERS_SHARE.
FACTS_STATUSES = ASYLUM | TOLERATED | {"ae_16g"}
FACTS_OTHERS_SHARE = 0.2
UNKNOWN_SHARE = 0.1  # a field the case manager has not filled in: not known
EMPLOYED_HOURS = (20.0, 25.0, 30.0, 35.0, 38.5, 39.0, 40.0)
PART_TIME_HOURS = (8.0, 10.0, 12.0, 15.0)
BESCHAEFTIGUNGSDULDUNG_ENTRY_BEFORE = dt.date(2023, 1, 1)  # § 60d Abs. 1 Nr. 1 AufenthG


def eligibility_facts(
    d: Draw,
    *,
    today: dt.date,
    birth: dt.date,
    entry: dt.date,
    nationality: str,
    segments: Sequence[Segment],
    benefits: Sequence[tuple[dt.date, str]],
    work_ban: bool | None = None,
) -> Row | None:
    """The flags of eligibility_personfacts for a person's story, or None (no row).

    Shared by the generator (one row per person) and the eligibility benchmark (fact
    sets without a database). Draws from `d` only, so the caller's other random
    streams stay as they are. `work_ban` is what the residence timeline says about a
    § 60a (6) ban (the generator knows it; the benchmark passes None and lets it be
    drawn). Some fields stay None (not known), as they would in practice.
    """
    current = segments[-1]
    status = current.status
    if status not in FACTS_STATUSES and not d.chance(FACTS_OTHERS_SHARE):
        return None
    age = age_on(birth, today)
    tolerated, asylum = status in TOLERATED, status in ASYLUM
    safe = CODES.is_safe_country(nationality, today)

    def known(value: Any, unknown: float = UNKNOWN_SHARE) -> Any:
        return None if d.chance(unknown) else value

    def end_of(i: int) -> dt.date:
        return segments[i + 1].start - days(1) if i + 1 < len(segments) else today

    # The formal application: the Gestattung is certified within three working days
    # of it (§ 63 Abs. 1 AsylG), a few days to weeks after the Ankunftsnachweis.
    application = None
    gestattung = next((i for i, s in enumerate(segments) if s.status == "gestattung"), None)
    if gestattung is not None:
        g_start = segments[gestattung].start
        application = known(max(entry, g_start - days(d.rng.randint(0, 3))), 0.08)

    # Obliged to live in the reception centre only in the first months (§ 47 AsylG);
    # nationals of safe countries of origin until the decision or departure.
    reception = False
    if asylum or tolerated:
        months = 24 if safe else d.pick((3, 6, 6, 9, 12, 18))
        reception = today < add_months(entry, months)
    reception = known(reception, 0.05)

    rejected: bool | None = None
    if tolerated:
        rejected = known(d.chance(0.6 if safe else 0.12))
    elif asylum:
        rejected = False

    if status == "duldung_ungeklaerte_identitaet":
        identity: bool | None = False
    else:
        identity = d.weighted([(True, 85), (False, 5), (None, 10)])

    if tolerated:
        ban = work_ban if work_ban is not None else status == "duldung" and d.chance(0.1)
        ban = known(ban)
    else:
        ban = known(False)

    in_training: bool | None = None
    training_since: dt.date | None = None
    if status in ("ausbildungsduldung", "ae_16g"):
        in_training = True
        lo = segments[-2].start + days(1) if len(segments) > 1 else current.start
        training_since = max(lo, current.start - days(d.rng.randint(0, 90)))
    elif age <= 27 and (status == "gestattung" or tolerated) and d.chance(0.15):
        in_training = True
        if gestattung is not None and tolerated and d.chance(0.3):
            # began during the asylum procedure: no waiting time for § 60c
            g_lo = add_months(segments[gestattung].start, 3)
            training_since = d.day_between(g_lo, max(g_lo, end_of(gestattung)))
        else:
            lo = add_months(current.start, 1)
            training_since = d.day_between(lo, today) if lo <= today else None
            in_training = training_since is not None or None
    elif age >= 16:
        in_training = known(False, 0.2)

    employed_since: dt.date | None = None
    hours: float | None = None
    livelihood: dt.date | None = None
    if status == "beschaeftigungsduldung":
        # § 60d: twelve months of employment and livelihood before the Duldung.
        employed_since = max(entry + days(90), current.start - days(d.rng.randint(370, 720)))
        hours = d.pick(EMPLOYED_HOURS)
        livelihood = known(employed_since + days(d.rng.randint(0, 120)))
    elif age >= 18 and not in_training and not ban and status != "ankunftsnachweis":
        r = d.rng.random()
        # Tolerated persons who entered before 2023 can come to § 60d (Abs. 1 Nr. 1).
        reach = 0.45 if entry < BESCHAEFTIGUNGSDULDUNG_ENTRY_BEFORE else 0.15
        if status in ("duldung", "duldung_ermessen") and r < reach:
            # Employed for less than a year: § 60d comes within reach in the next year.
            employed_since = d.day_between(today - days(360), today - days(30))
            hours = d.pick(EMPLOYED_HOURS)
            livelihood = min(today, employed_since + days(d.rng.randint(0, 60)))
        elif r < (0.35 if tolerated else 0.15 if asylum else 0.4):
            lo = max(entry + days(90), current.start + days(30))
            employed_since = d.day_between(lo, today - days(14)) if lo < today else None
            if employed_since is not None:
                hours = d.pick(EMPLOYED_HOURS + PART_TIME_HOURS)
                if hours >= 20 and d.chance(0.7):
                    livelihood = employed_since + days(d.rng.randint(0, 90))
        else:
            hours = known(0.0, 0.2)  # not employed
    if employed_since is not None:
        employed_since = known(employed_since, 0.05)

    if employed_since is not None or in_training:
        proximity: bool | None = True
    elif age >= 18:
        proximity = d.weighted([(True, 75), (False, 10), (None, 15)])
    else:
        proximity = d.weighted([(False, 50), (None, 50)])

    if any(regime == "sgb8" for _, regime in benefits):
        sgb8: bool | None = True
    elif age < 21:
        sgb8 = d.weighted([(True, 20), (False, 50), (None, 30)])
    else:
        sgb8 = d.weighted([(False, 30), (None, 70)])

    return {
        "asylum_application_date": application,
        "reception_centre": reception,
        "rejected_manifestly_unfounded": rejected,
        "identity_clarified": identity,
        "work_ban_60a6": ban,
        "labour_market_proximity": proximity,
        "in_training": in_training,
        "training_since": training_since,
        "employed_since": employed_since,
        "weekly_hours_employed": hours,
        "livelihood_secured_since": livelihood,
        "sgb8_help_before_21": sgb8,
    }


def generate_all(config: Config) -> Rows:
    """Everything in memory (small sizes only: tests and the demo)."""
    gen = Generator(config)
    rows: Rows = {t: list(v) for t, v in gen.reference().items()}
    rows.update({t: list(v) for t, v in gen.offers().items()})
    for t in PERSON_TABLES:
        rows[t] = []
    for _n, chunk in gen.chunks():
        for t, items in chunk.items():
            rows[t].extend(items)
    rows["offer"] = gen.offers_occupied()
    return rows
