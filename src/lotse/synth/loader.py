"""Bulk-load generated rows into the database, and write them as JSON lines.

Loading bypasses the services on purpose (100 000 persons would take hours
through them) but keeps what they guarantee: the generator builds consistent
rows, and here they go in as batched multi-row inserts inside one transaction.
Primary keys are assigned before inserting — local ids plus the table's current
maximum — so no row needs a query to learn its id.

Person tables are inserted with `executemany` on one prepared INSERT per table
instead of `bulk_create`: bulk_create compiles every value through the SQL
compiler and spends four fifths of the load time there. Values still pass through
the fields' own `get_db_prep_save` wherever the database needs an adapted value
(dates, datetimes, JSON), so what is stored is exactly what the ORM would store,
and the database checks every constraint as usual. The small reference tables
use `bulk_create`. Districts,
organisations, users and memberships are matched by their natural keys, so a
second load (`--append`) reuses them.

Synthetic history needs historical timestamps, so the `auto_now`/`auto_now_add`
fields of the loaded models are switched off while loading (and restored after).
No access log entries are written: loading is not an access by a user.

The offer catalogue belongs to the municipality, not to its clients: it is loaded
with the first load into a database without offers, and a later load (`--append`)
leaves the offers there as they are. `add_offers` tops a catalogue up to a size
(the benchmark's 10 000 offers) with the catalogues of further seeds.

Participations take places in the offers. The offers go in before the persons, so
after the last chunk `update_occupied` sets each loaded offer's `occupied` to the
participations running in it (one set-based UPDATE; `updated_at` moves where it
changed). A load into a database whose catalogue came from an earlier load
(`--append`) cannot know which offers the generator meant: its referrals and
participations keep title, category and level as recorded and name no offer.

The consents signed for referrals come in generator tables of their own
(`referral_consent`, participations.py) and go into the same database tables as the
other consents; `SHARED_IDS` interleaves the two id ranges.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import Count, F, IntegerField, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from lotse.casework import models as cw
from lotse.core import models as core
from lotse.eligibility.models import PersonFacts
from lotse.offers.models import Offer
from lotse.people import models as people
from lotse.privacy import models as privacy
from lotse.referrals import models as referrals

from .generator import (
    OFFER_TABLES,
    PERSON_TABLES,
    REFERENCE_TABLES,
    Config,
    Generator,
    GuideQuestion,
    NeedTypeSpec,
    Row,
    Rows,
    default_guide,
    default_need_types,
)

BATCH = 5000
# Fields whose Python values the database drivers take as they are — Django's own
# classes only: a project field derived from them (an encrypted text field, say)
# goes through its `get_db_prep_save` like dates and JSON do.
_PLAIN = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    fks: dict[str, str]  # attname → table it points to
    natural: tuple[str, ...] = ()  # natural key for reference tables


TABLES: dict[str, Table] = {
    "district": Table(core.District, {}, ("code",)),
    "organisation": Table(core.Organisation, {"district_id": "district"}, ("name",)),
    "user": Table(core.User, {}, ("username",)),
    "membership": Table(
        core.Membership,
        {"user_id": "user", "organisation_id": "organisation"},
        ("user_id", "organisation_id", "role"),
    ),
    # An agreement for the same flow on the same legal basis (seeded by a migration or
    # an earlier load) is reused, whatever its name.
    "sharing_agreement": Table(
        privacy.SharingAgreement,
        {
            "source_organisation_id": "organisation",
            "receiver_organisation_id": "organisation",
            "owner_id": "organisation",
        },
        (
            "source_organisation_id",
            "source_type",
            "receiver_organisation_id",
            "receiver_type",
            "legal_basis",
        ),
    ),
    "offer": Table(
        Offer,
        {"provider_id": "organisation", "district_id": "district", "updated_by_id": "user"},
    ),
    # `need_type` is a NeedType code, resolved like an assessment item's.
    "offer_need_type": Table(Offer.need_types.through, {"offer_id": "offer"}),
    "household": Table(people.Household, {}),
    "person": Table(people.Person, {"district_id": "district", "household_id": "household"}),
    "person_name": Table(people.PersonName, {"person_id": "person"}),
    "person_language": Table(people.PersonLanguage, {"person_id": "person"}),
    "residence_period": Table(
        people.ResidenceStatusPeriod,
        {
            "person_id": "person",
            "supersedes_id": "residence_period",
            "recorded_by_id": "user",
            "issuing_authority_id": "organisation",
        },
    ),
    "benefit_period": Table(
        people.BenefitPeriod,
        {
            "person_id": "person",
            "supersedes_id": "benefit_period",
            "recorded_by_id": "user",
            "authority_id": "organisation",
        },
    ),
    "case": Table(
        cw.Case,
        {"person_id": "person", "lead_organisation_id": "organisation", "case_manager_id": "user"},
    ),
    "case_team_member": Table(
        cw.CaseTeamMember,
        {
            "case_id": "case",
            "user_id": "user",
            "organisation_id": "organisation",
            "added_by_id": "user",
        },
    ),
    "integration_plan": Table(cw.IntegrationPlan, {"case_id": "case"}),
    "intake": Table(cw.Intake, {"case_id": "case", "conducted_by_id": "user"}),
    "assessment": Table(cw.Assessment, {"case_id": "case", "assessed_by_id": "user"}),
    "assessment_item": Table(cw.AssessmentItem, {"assessment_id": "assessment"}),
    "plan_goal": Table(cw.PlanGoal, {"plan_id": "integration_plan"}),
    "plan_step": Table(
        cw.PlanStep,
        {
            "goal_id": "plan_goal",
            "responsible_organisation_id": "organisation",
            "responsible_user_id": "user",
        },
    ),
    "plan_version": Table(cw.PlanVersion, {"plan_id": "integration_plan", "agreed_by_id": "user"}),
    "appointment": Table(
        cw.Appointment,
        {"case_id": "case", "organisation_id": "organisation", "created_by_id": "user"},
    ),
    "note": Table(
        cw.Note, {"case_id": "case", "author_id": "user", "organisation_id": "organisation"}
    ),
    "followup": Table(
        cw.FollowUp,
        {
            "case_id": "case",
            "owner_id": "user",
            "organisation_id": "organisation",
            "done_by_id": "user",
            "created_by_id": "user",
        },
    ),
    "consent": Table(
        privacy.Consent,
        {
            "person_id": "person",
            "recorded_by_id": "user",
            "recorded_for_id": "organisation",
            "withdrawn_by_id": "user",
        },
    ),
    # The many-to-many tables, inserted directly like any other.
    "consent_receiving_organisation": Table(
        privacy.Consent.receiving_organisations.through,
        {"consent_id": "consent", "organisation_id": "organisation"},
    ),
    "consent_named_user": Table(
        privacy.Consent.named_users.through, {"consent_id": "consent", "user_id": "user"}
    ),
    "break_glass_access": Table(
        privacy.BreakGlassAccess,
        {"case_id": "case", "user_id": "user", "organisation_id": "organisation"},
    ),
    "eligibility_personfacts": Table(PersonFacts, {"person_id": "person", "updated_by_id": "user"}),
    # Consents signed for a referral (participations.py): Consent rows like the ones
    # above, kept apart in the generator so that those stay as they were.
    "referral_consent": Table(
        privacy.Consent,
        {
            "person_id": "person",
            "recorded_by_id": "user",
            "recorded_for_id": "organisation",
            "withdrawn_by_id": "user",
        },
    ),
    "referral_consent_receiving_organisation": Table(
        privacy.Consent.receiving_organisations.through,
        {"consent_id": "referral_consent", "organisation_id": "organisation"},
    ),
    # `offer_id` is None when the catalogue was there before this load (--append): the
    # generator's offers are not the ones in the database.
    "referral": Table(
        referrals.Referral,
        {
            "case_id": "case",
            "person_id": "person",
            "offer_id": "offer",
            "receiver_id": "organisation",
            "sender_id": "organisation",
            "consent_id": "referral_consent",
            "created_by_id": "user",
        },
    ),
    # `need_type` is a NeedType code, resolved like an assessment item's.
    "referral_need_type": Table(referrals.Referral.need_types.through, {"referral_id": "referral"}),
    "referral_event": Table(
        referrals.ReferralEvent,
        {"referral_id": "referral", "by_id": "user", "by_organisation_id": "organisation"},
    ),
    "participation": Table(
        referrals.Participation,
        {
            "person_id": "person",
            "case_id": "case",
            "referral_id": "referral",
            "offer_id": "offer",
            "provider_id": "organisation",
            "recorded_by_id": "organisation",
            "created_by_id": "user",
        },
    ),
}
assert list(TABLES) == REFERENCE_TABLES + OFFER_TABLES + PERSON_TABLES
# Generator tables that share a database table: their local ids interleave (the first
# takes the odd ids above the table's maximum, the second the even ones), so neither
# needs to know how many rows the other will have.
SHARED_IDS: dict[str, tuple[int, int]] = {
    "consent": (2, 0),
    "referral_consent": (2, 1),
    "consent_receiving_organisation": (2, 0),
    "referral_consent_receiving_organisation": (2, 1),
}


# --- what the generator needs from the database -----------------------------------


def config_from_db(
    *, persons: int, seed: int, today: dt.date, plant_share: float | None = None
) -> Config:
    """A generator config with the default interview guide and the need types of the DB
    (``plant_share`` None: the generator's default)."""
    guide = (
        cw.InterviewGuide.objects.filter(organisation__isnull=True, is_active=True)
        .order_by("pk")
        .first()
    )
    questions: list[GuideQuestion] = []
    if guide is not None:
        questions = [
            GuideQuestion(q.key, q.section, q.text, q.kind, tuple(q.choices), q.required)
            for q in guide.questions.filter(is_active=True)
        ]
    need_types = [
        NeedTypeSpec(n.code, n.name, n.life_domain)
        for n in core.NeedType.objects.filter(is_active=True).order_by("code")
    ]
    config = Config(
        persons=persons,
        seed=seed,
        today=today,
        guide_id=guide.pk if guide is not None else None,
        guide=questions or default_guide(),
        need_types=need_types or default_need_types(),
    )
    if plant_share is not None:
        config = dataclasses.replace(config, plant_share=plant_share)
    return config


# --- loading -------------------------------------------------------------------


@contextmanager
def historic_timestamps(model_list: Sequence[type[models.Model]]) -> Iterator[None]:
    """Let rows carry their own created/updated times instead of "now"."""
    saved: list[tuple[models.DateField, bool, bool]] = []
    for model in model_list:
        for f in model._meta.concrete_fields:
            if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _auto_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname
        for f in model._meta.concrete_fields
        if isinstance(f, models.DateField) and (f.auto_now or f.auto_now_add)
    ]


class Inserter:
    """One prepared INSERT for a model, run with executemany; rows are keyed by attname."""

    def __init__(self, model: type[models.Model]) -> None:
        fields = list(model._meta.concrete_fields)
        qn = connection.ops.quote_name
        self.attnames = [f.attname for f in fields]
        self.defaults = {f.attname: f.get_default() for f in fields}
        self.converters: list[Callable[[Any], Any] | None] = [
            None if _is_plain(f) else partial(_prep, f) for f in fields
        ]
        # Names come from the model's metadata and are quoted; values are parameters.
        self.sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608
            qn(model._meta.db_table),
            ", ".join(qn(f.column) for f in fields if f.column),
            ", ".join(["%s"] * len(fields)),
        )

    def insert(self, rows: Sequence[Row]) -> None:
        pairs = list(zip(self.attnames, self.converters, strict=True))
        defaults = self.defaults
        values = []
        for row in rows:
            record = []
            for attname, convert in pairs:
                value = row[attname] if attname in row else defaults[attname]
                if convert is not None and value is not None:
                    value = convert(value)
                record.append(value)
            values.append(tuple(record))
        with connection.cursor() as cursor:
            for start in range(0, len(values), BATCH):
                cursor.executemany(self.sql, values[start : start + BATCH])


def _is_plain(field: models.Field) -> bool:
    return isinstance(field, _PLAIN) and type(field).__module__.startswith("django.")


def _prep(field: models.Field, value: Any) -> Any:
    return field.get_db_prep_save(value, connection=connection)


class Loader:
    """Inserts reference rows once, then person chunks; maps local ids to database ids."""

    def __init__(self) -> None:
        self.maps: dict[str, dict[int, int]] = {}
        self.offsets: dict[str, int] = {}
        # Tables whose rows are not in this database: references to them become None
        # (the generator's offers, when the catalogue was loaded before).
        self.absent: set[str] = {"offer"}
        self.loaded_offers: list[int] = []  # database ids of the offers loaded here
        self.need_types: dict[str, int] = {}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.now = timezone.now()
        self.auto = {name: _auto_fields(t.model) for name, t in TABLES.items()}
        self.inserters = {
            name: Inserter(TABLES[name].model) for name in OFFER_TABLES + PERSON_TABLES
        }

    def _id(self, table: str, local: int) -> int:
        stride, phase = SHARED_IDS.get(table, (1, 0))
        return self.offsets[table] + (local - 1) * stride + phase + 1

    def _remap(self, name: str, row: Row) -> Row:
        row = dict(row)
        for attname, target in TABLES[name].fks.items():
            value = row.get(attname)
            if value is None:
                continue
            if target in self.offsets:
                row[attname] = self._id(target, value)
            elif target in self.absent:
                row[attname] = None
            else:
                row[attname] = self.maps[target][value]
        if name in self.offsets:
            row["id"] = self._id(name, row["id"])
        for attname in self.auto[name]:
            if row.get(attname) is None:
                row[attname] = self.now
        return row

    def load_reference(self, rows: Rows, tables: Sequence[str] = REFERENCE_TABLES) -> None:
        for name in tables:
            table = TABLES[name]
            model = table.model
            existing: dict[tuple[Any, ...], int] = {
                tuple(values[:-1]): values[-1]
                for values in model.objects.values_list(*table.natural, "pk")  # type: ignore[attr-defined]
            }
            mapping: dict[int, int] = {}
            new: list[Row] = []
            for raw in rows[name]:
                row = dict(raw)
                local = row.pop("id")
                for attname, target in table.fks.items():
                    if row.get(attname) is not None:
                        row[attname] = self.maps[target][row[attname]]
                key = tuple(row[f] for f in table.natural)
                if key in existing:
                    mapping[local] = existing[key]
                else:
                    new.append(row)
                    mapping[local] = -1
                    row["_local"] = local
            if new:
                objs = []
                for row in new:
                    local = row.pop("_local")
                    for attname in self.auto[name]:
                        row.setdefault(attname, self.now)
                    obj = model(**row)
                    objs.append((local, obj))
                # Reference tables are small: let the database assign ids, then read them back.
                model.objects.bulk_create([o for _, o in objs], batch_size=BATCH)  # type: ignore[attr-defined]
                fresh = {
                    tuple(values[:-1]): values[-1]
                    for values in model.objects.values_list(*table.natural, "pk")  # type: ignore[attr-defined]
                }
                for local, obj in objs:
                    mapping[local] = fresh[tuple(getattr(obj, f) for f in table.natural)]
                self.counts[name] += len(objs)
            self.maps[name] = mapping
        self.need_types = dict(core.NeedType.objects.values_list("code", "pk"))
        for name in PERSON_TABLES:
            model = TABLES[name].model
            self.offsets[name] = model.objects.aggregate(m=Max("pk"))["m"] or 0  # type: ignore[attr-defined]

    def load_offers(self, rows: Rows) -> None:
        """Insert an offer catalogue (after `load_reference`) behind the offers there."""
        for name in OFFER_TABLES:
            model = TABLES[name].model
            self.offsets[name] = model.objects.aggregate(m=Max("pk"))["m"] or 0  # type: ignore[attr-defined]
        self.absent.discard("offer")
        for name in OFFER_TABLES:
            out = []
            for raw in rows.get(name) or []:
                row = self._remap(name, raw)
                if name == "offer_need_type":
                    row["needtype_id"] = self._need_type(row.pop("need_type"))
                out.append(row)
            self.inserters[name].insert(out)
            self.counts[name] += len(out)
        self.loaded_offers += [self._id("offer", o["id"]) for o in rows.get("offer") or []]

    def load_chunk(self, rows: Rows) -> None:
        for name in PERSON_TABLES:
            items = rows.get(name) or []
            if not items:
                continue
            out = []
            for raw in items:
                row = self._remap(name, raw)
                if name == "assessment_item":
                    code = row.pop("need_type")
                    row["need_type_id"] = self._need_type(code) if code else None
                elif name == "referral_need_type":
                    row["needtype_id"] = self._need_type(row.pop("need_type"))
                elif name == "plan_version":
                    row["snapshot"] = self._snapshot(row["snapshot"])
                out.append(row)
            self.inserters[name].insert(out)
            self.counts[name] += len(out)

    def _need_type(self, code: str) -> int:
        if code not in self.need_types:
            spec = {n.code: n for n in default_need_types()}.get(code)
            obj, _ = core.NeedType.objects.get_or_create(
                code=code,
                defaults={
                    "name": spec.name if spec else code,
                    "life_domain": spec.life_domain if spec else "participation",
                },
            )
            self.need_types[code] = obj.pk
        return self.need_types[code]

    def _snapshot(self, snapshot: dict[str, Any]) -> dict[str, Any]:
        goal_off, step_off = self.offsets["plan_goal"], self.offsets["plan_step"]
        if not goal_off and not step_off:
            return snapshot
        return {
            "goals": [
                {
                    **g,
                    "id": g["id"] + goal_off,
                    "steps": [{**s, "id": s["id"] + step_off} for s in g["steps"]],
                }
                for g in snapshot["goals"]
            ]
        }

    def label(self, label: Row) -> Row:
        """A label of a planted pattern with the database's ids."""
        return {
            **label,
            "person_id": self._id("person", label["person_id"]),
            "participation_ids": [self._id("participation", i) for i in label["participation_ids"]],
            "referral_ids": [self._id("referral", i) for i in label["referral_ids"]],
        }

    def update_occupied(self) -> int:
        """Places taken in the offers loaded here: the participations running in them
        (set-based, after the last chunk); `updated_at` moves where the number changed,
        so that the matching's cached catalogue rows notice. Returns the offers changed."""
        if not self.loaded_offers:
            return 0
        running = (
            referrals.Participation.objects.filter(offer=OuterRef("pk"), ended_on__isnull=True)
            .order_by()
            .values("offer")
            .annotate(n=Count("pk"))
            .values("n")
        )
        taken = Coalesce(Subquery(running, output_field=IntegerField()), 0)
        lo, hi = min(self.loaded_offers), max(self.loaded_offers)
        offers = Offer.objects.filter(pk__gte=lo, pk__lte=hi)
        changed = list(
            offers.annotate(taken=taken).exclude(occupied=F("taken")).values_list("pk", flat=True)
        )
        Offer.objects.filter(pk__in=changed).update(occupied=taken, updated_at=self.now)
        return len(changed)

    def finish(self) -> None:
        """Move sequences past the ids we set (PostgreSQL; SQLite keeps track itself),
        and refresh the planner statistics: after a bulk load without them, SQLite
        picks poor indexes (e.g. a case's follow-ups by organisation, not by case)."""
        statements = connection.ops.sequence_reset_sql(
            no_style(), [t.model for t in TABLES.values()]
        )
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
            if connection.vendor in ("sqlite", "postgresql"):
                cursor.execute("ANALYZE")


def load(
    config: Config,
    *,
    chunk_size: int = 2000,
    progress: Callable[[int], object] | None = None,
    labels: list[Row] | None = None,
) -> dict[str, int]:
    """Generate and load in one transaction; returns the number of rows per table.
    ``labels``: a list to receive the labels of the planted patterns (#6), with the
    database's ids."""
    gen = Generator(config)
    loader = Loader()
    with transaction.atomic(), historic_timestamps([t.model for t in TABLES.values()]):
        loader.load_reference(gen.reference())
        if not Offer.objects.exists():
            loader.load_offers(gen.offers())
        for persons, chunk in gen.chunks(chunk_size):
            loader.load_chunk(chunk)
            if progress is not None:
                progress(persons)
        loader.update_occupied()
        loader.finish()
    if labels is not None:
        labels.extend(loader.label(label) for label in gen.labels)
    return loader.counts


def add_offers(config: Config, total: int) -> int:
    """Top the offer catalogue up to `total` offers with the catalogues of the seeds
    `config.seed`, `config.seed + 1`, … (the last one cut short); districts and
    organisations are matched by their natural keys, or created. Returns the number
    of offers added."""
    have = Offer.objects.count()
    if have >= total:
        return 0
    loader = Loader()
    models_ = [TABLES[name].model for name in OFFER_TABLES]
    seed, added = config.seed, 0
    with transaction.atomic(), historic_timestamps(models_):
        while have + added < total:
            gen = Generator(dataclasses.replace(config, seed=seed, persons=1))
            if not loader.maps:
                loader.load_reference(gen.reference(), tables=("district", "organisation"))
            rows = gen.offers()
            room = total - have - added
            if len(rows["offer"]) > room:
                offers = rows["offer"][:room]
                kept = {o["id"] for o in offers}
                links = [n for n in rows["offer_need_type"] if n["offer_id"] in kept]
                rows = {"offer": offers, "offer_need_type": links}
            loader.load_offers(rows)
            added += len(rows["offer"])
            seed += 1
        loader.finish()
    return added


# --- JSON lines -------------------------------------------------------------------


def _json_default(value: Any) -> str:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dump_row(row: Row) -> str:
    return json.dumps(row, default=_json_default, ensure_ascii=False, sort_keys=True)


def write(
    config: Config,
    out: Path,
    *,
    chunk_size: int = 2000,
    progress: Callable[[int], object] | None = None,
) -> dict[str, int]:
    """One `<table>.jsonl` per table, the labels of the planted patterns (#6) in
    `career_labels.jsonl`, and a `manifest.json`; returns the row counts."""
    out.mkdir(parents=True, exist_ok=True)
    gen = Generator(config)
    counts = dict.fromkeys(TABLES, 0)
    files = {name: (out / f"{name}.jsonl").open("w", encoding="utf-8") for name in TABLES}
    try:
        # The offers go last: their places taken follow the participations.
        first = {**gen.reference(), "offer_need_type": gen.offers()["offer_need_type"]}
        for name, items in first.items():
            for row in items:
                files[name].write(dump_row(row) + "\n")
            counts[name] += len(items)
        for persons, chunk in gen.chunks(chunk_size):
            for name, items in chunk.items():
                fh = files[name]
                for row in items:
                    fh.write(dump_row(row) + "\n")
                counts[name] += len(items)
            if progress is not None:
                progress(persons)
        offers = gen.offers_occupied()
        for row in offers:
            files["offer"].write(dump_row(row) + "\n")
        counts["offer"] += len(offers)
    finally:
        for fh in files.values():
            fh.close()
    write_labels(gen.labels, out / LABELS_FILE)
    manifest = {
        "seed": config.seed,
        "today": config.today.isoformat(),
        "persons": config.persons,
        "guide_id": config.guide_id,
        "counts": counts,
        "tables": {name: f"{name}.jsonl" for name in TABLES},
        "plant_share": config.plant_share,
        "labels": {"file": LABELS_FILE, "count": len(gen.labels)},
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    return counts


LABELS_FILE = "career_labels.jsonl"


def write_labels(labels: Sequence[Row], path: Path) -> None:
    """The labels of the planted patterns as JSON lines (#6, docs/careers_truth.md)."""
    with path.open("w", encoding="utf-8") as fh:
        for label in labels:
            fh.write(json.dumps(label, ensure_ascii=False, sort_keys=True) + "\n")


def read_labels(path: Path) -> list[Row]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
