"""The Art. 15 GDPR report (Auskunft): everything lotse stores about one person.

For the lead organisation's case workers (``Perm.CASE_EDIT`` on a case they lead).
The report covers the person across **all** their cases, grouped by data category
(DESIGN §5.1, ``privacy.categories``), and adds

* the **sources** — who recorded what, for which organisation;
* the **recipients** — per organisation: why it may receive data (lead, case team,
  consents naming it, sharing agreements, emergency access, referrals sent to it)
  and how often it did;
* **every access and disclosure** from the access log (redacted entries as such,
  and retention runs that removed data);
* the **field change history** (django-auditlog, see ``privacy.auditing``).

Apps that depend on privacy (referrals and participations) add their data through
the registration functions under "data of other apps" below.

It is built set-based: a fixed number of queries whatever the amount of data
(tests/test_art15.py). Generating it is itself logged (action ``export``, all
categories, object type ``art15_report``).

Rows hold plain values (dates, strings, category codes) so the JSON download is
the same data as the HTML page; ``Table.display_rows`` formats them for people.
Other persons' data is left out: of the household only the person's own role and
the number of other members are given (Art. 15 (4) GDPR).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from lotse.casework.codes import LifeDomain
from lotse.casework.models import (
    Appointment,
    Assessment,
    AssessmentItem,
    Case,
    CaseTeamMember,
    Document,
    FollowUp,
    Intake,
    Note,
    PlanGoal,
    PlanStep,
    PlanVersion,
)
from lotse.core.models import (
    AccessAction,
    AccessLogEntry,
    DeletionRecord,
    Membership,
    Organisation,
    OrganisationType,
    RetentionPolicy,
)
from lotse.core.roles import Perm, Role
from lotse.core.services import access_log_record
from lotse.eligibility.models import FLAG_FIELDS, PersonFacts
from lotse.people.codes import Language
from lotse.people.models import BenefitPeriod, Person, ResidenceStatusPeriod
from lotse.people.selectors import timeline_mark_current

from .access import BASIS_LABELS, CaseAccess, case_access_bulk, require_case
from .auditing import person_change_history
from .categories import LIFE_DOMAIN_CATEGORY, Category, Purpose
from .models import BreakGlassAccess, Consent, SharingAgreement

OBJECT_TYPE = "art15_report"
PURPOSE = "art15"  # the access-log purpose of the export: the person's right of access

ALL_CATEGORIES = [c.value for c in Category]

# Column kinds: how a value is shown on the page (the JSON keeps the value).
TEXT, DATE, DATETIME, BOOL, CATEGORIES, LINES = (
    "text",
    "date",
    "datetime",
    "bool",
    "categories",
    "lines",
)


@dataclass(frozen=True)
class Column:
    key: str
    label: str | Promise
    kind: str = TEXT


@dataclass
class Table:
    key: str
    title: str | Promise
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    json_only: tuple[str, ...] = ()  # row keys given in the JSON but not shown as columns

    def display_rows(self) -> list[list[str]]:
        return [[_display(row.get(c.key), c.kind) for c in self.columns] for row in self.rows]

    def as_json(self) -> list[dict[str, Any]]:
        keys = [c.key for c in self.columns] + list(self.json_only)
        return [{k: row.get(k) for k in keys} for row in self.rows]


@dataclass
class Section:
    key: str
    title: str | Promise
    tables: list[Table]
    intro: str | Promise = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "label": str(self.title),
            "tables": {t.key: t.as_json() for t in self.tables},
        }


@dataclass
class Recipient:
    """One organisation that received or may receive the person's data."""

    organisation: Organisation
    relations: list[str] = field(default_factory=list)
    consents: Table | None = None
    agreements: Table | None = None
    break_glass: Table | None = None
    access_count: int = 0
    last_access: dt.datetime | None = None
    categories_accessed: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"org{self.organisation.pk}"

    @property
    def tables(self) -> list[Table]:
        return [t for t in (self.consents, self.agreements, self.break_glass) if t is not None]

    @property
    def categories_accessed_labels(self) -> str:
        return _display(sorted(self.categories_accessed, key=ALL_CATEGORIES.index), CATEGORIES)

    def as_json(self) -> dict[str, Any]:
        return {
            "organisation": self.organisation.name,
            "organisation_type": str(self.organisation.get_org_type_display()),
            "relations": self.relations,
            "consents": self.consents.as_json() if self.consents else [],
            "sharing_agreements": self.agreements.as_json() if self.agreements else [],
            "break_glass": self.break_glass.as_json() if self.break_glass else [],
            "accesses": {
                "count": self.access_count,
                "last": self.last_access,
                "categories": sorted(self.categories_accessed, key=ALL_CATEGORIES.index),
            },
        }


@dataclass
class Art15Report:
    person: Person
    case: Case
    generated_at: dt.datetime
    generated_by: Membership
    categories: list[Section]
    consents: Table
    sources: Table
    recipients: list[Recipient]
    accesses: Table
    deletions: Table
    history: Table
    retention_days: dict[str, int]

    @property
    def purposes(self) -> list[str]:
        return [str(label) for _code, label in Purpose.choices]

    def as_json(self) -> dict[str, Any]:
        return {
            "report": {
                "type": "art15_gdpr",
                "generated_at": self.generated_at,
                "generated_by": {
                    "user": str(self.generated_by.user),
                    "organisation": self.generated_by.organisation.name,
                    "role": str(self.generated_by.get_role_display()),
                },
                "requested_via_case": self.case.pk,
            },
            "person": {"id": self.person.pk, "name": self.person.full_name},
            "purposes": self.purposes,
            "retention_days": self.retention_days,
            "categories": {s.key: s.as_json() for s in self.categories},
            "consents": self.consents.as_json(),
            "sources": self.sources.as_json(),
            "recipients": [r.as_json() for r in self.recipients],
            "accesses": self.accesses.as_json(),
            "retention_runs": self.deletions.as_json(),
            "change_history": self.history.as_json(),
        }


# --- formatting ---------------------------------------------------------------------

_CATEGORY_LABELS = dict(Category.choices)


def _display(value: Any, kind: str) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if kind == BOOL:
        return _("yes") if value else _("no")
    if kind == DATE and isinstance(value, dt.date):
        return date_format(value, "SHORT_DATE_FORMAT")
    if kind == DATETIME and isinstance(value, dt.datetime):
        return date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")
    if kind == CATEGORIES:
        return ", ".join(str(_CATEGORY_LABELS.get(c, c)) for c in value)
    if kind == LINES:
        return "\n".join(str(v) for v in value)
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def display_value(value: Any, kind: str) -> str:
    """A value as the page shows it (for texts built by registered report parts)."""
    return _display(value, kind)


def _user(user: Any) -> str:
    return str(user) if user is not None else ""


def _org(org: Organisation | None) -> str:
    return org.name if org is not None else ""


_LANGUAGES = dict(Language.choices)


def _language(code: str) -> str:
    return str(_LANGUAGES.get(code, code)) if code else ""


def _cols(*spec: tuple[str, str | Promise] | tuple[str, str | Promise, str]) -> list[Column]:
    return [Column(*s) for s in spec]


CASE_COL = ("case", gettext_lazy("Case"))


# --- loading ------------------------------------------------------------------------


@dataclass
class _Data:
    """Everything about the person, loaded in a fixed number of queries."""

    person: Person
    household_others: int
    residence: list[ResidenceStatusPeriod]
    eligibility_facts: list[PersonFacts]
    benefits: list[BenefitPeriod]
    cases: list[Case]
    team: list[CaseTeamMember]
    intakes: list[Intake]
    assessments: list[Assessment]
    items: list[AssessmentItem]
    goals: list[PlanGoal]
    steps: list[PlanStep]
    versions: list[PlanVersion]
    appointments: list[Appointment]
    notes: list[Note]
    documents: list[Document]
    followups: list[FollowUp]
    consents: list[Consent]
    agreements: list[SharingAgreement]
    break_glass: list[BreakGlassAccess]
    accesses: list[AccessLogEntry]
    deletions: list[DeletionRecord]
    history: list[Any]
    # Data of other apps, by the key they registered it under (register_data).
    extra: dict[str, Any] = field(default_factory=dict)


# What registered builders receive (the loaded data, restricted for the actor).
ReportData = _Data


# --- data of other apps ----------------------------------------------------------------
#
# Apps that store personal data depend on privacy, never the other way round (DESIGN
# §4). They add their data to the report from their AppConfig.ready():
#
# * ``register_data(key, load=..., restrict=...)``: ``load(person_id)`` reads the
#   person's rows in a fixed number of queries (whatever their amount); the result is
#   ``data.extra[key]``. ``restrict(value, scope)`` returns what the requesting
#   organisation may see of it (``RestrictScope``: the same case and category rules as
#   the report's own data); it may add organisations to ``scope.recipients`` whose
#   accesses the report then lists. Both are required: nothing unrestricted goes out.
# * ``register_section_builder(category, builder)``: ``builder(data)`` returns tables
#   shown (and exported as JSON) under the data category.
# * ``register_recipient_source(fn)``: ``fn(data, recipient)`` adds lines to the
#   recipients, ``recipient(org)`` giving the organisation's ``Recipient``.
# * ``register_source_rows(fn)``: ``fn(data, add)`` adds rows to "who recorded the
#   data": ``add(kind, ref, case_id, recorded_at, recorded_by, organisation)``.
#
# Registering the same function twice has no effect.


@dataclass
class RestrictScope:
    """What the requesting organisation may see, as ``_restrict`` decided it."""

    organisation_id: int
    case_ids: frozenset[int]  # the person's cases visible to it
    led: frozenset[int]  # … of which it leads these
    allowed: Callable[[int, str], bool]  # (case id, category) → may it see that?
    recipients: set[int]  # organisations whose accesses the report lists (may be added to)


@dataclass(frozen=True)
class DataSource:
    load: Callable[[int], Any]
    restrict: Callable[[Any, RestrictScope], Any]


SectionBuilder = Callable[[ReportData], list[Table]]
RecipientSource = Callable[[ReportData, Callable[[Organisation], Recipient]], None]
SourceAdder = Callable[[str | Promise, Any, Any, Any, Any, Any], None]
SourceRows = Callable[[ReportData, SourceAdder], None]

_DATA_SOURCES: dict[str, DataSource] = {}
_REGISTERED_SECTIONS: dict[str, list[SectionBuilder]] = {}
_RECIPIENT_SOURCES: list[RecipientSource] = []
_SOURCE_ROWS: list[SourceRows] = []


def register_data(
    key: str,
    *,
    load: Callable[[int], Any],
    restrict: Callable[[Any, RestrictScope], Any],
) -> None:
    """Load the person's rows of another app into ``data.extra[key]`` (see above)."""
    source = DataSource(load=load, restrict=restrict)
    if _DATA_SOURCES.get(key, source) != source:
        raise ValueError(f"Art. 15 data {key!r} is already registered")
    _DATA_SOURCES[key] = source


def register_section_builder(category: str, builder: SectionBuilder) -> None:
    """Tables of another app under a data category (after the report's own)."""
    if category not in ALL_CATEGORIES:
        raise ValueError(f"unknown data category {category!r}")
    builders = _REGISTERED_SECTIONS.setdefault(str(category), [])
    if builder not in builders:
        builders.append(builder)


def register_recipient_source(fn: RecipientSource) -> None:
    """Organisations that received the person's data through another app, and how."""
    if fn not in _RECIPIENT_SOURCES:
        _RECIPIENT_SOURCES.append(fn)


def register_source_rows(fn: SourceRows) -> None:
    """Records of another app in the table of who recorded the data."""
    if fn not in _SOURCE_ROWS:
        _SOURCE_ROWS.append(fn)


def _load(person_id: int) -> _Data:
    person = (
        Person.objects.select_related("district", "household")
        .prefetch_related("other_names", "languages")
        .get(pk=person_id)
    )
    household_others = (
        Person.objects.filter(household_id=person.household_id).exclude(pk=person.pk).count()
        if person.household_id
        else 0
    )
    by_case = Q(case__person_id=person_id)
    cases = list(
        Case.objects.filter(person_id=person_id)
        .select_related("lead_organisation", "case_manager")
        .order_by("opened_on", "pk")
    )
    return _Data(
        person=person,
        household_others=household_others,
        residence=list(
            ResidenceStatusPeriod.objects.filter(person_id=person_id)
            .select_related("issuing_authority", "recorded_by")
            .order_by("valid_from", "recorded_at", "pk")
        ),
        eligibility_facts=list(
            PersonFacts.objects.filter(person_id=person_id).select_related("updated_by")
        ),
        benefits=list(
            BenefitPeriod.objects.filter(person_id=person_id)
            .select_related("authority", "recorded_by")
            .order_by("valid_from", "recorded_at", "pk")
        ),
        cases=cases,
        team=list(
            CaseTeamMember.objects.filter(by_case)
            .select_related("user", "organisation", "added_by")
            .order_by("case_id", "added_at", "pk")
        ),
        intakes=list(
            Intake.objects.filter(by_case)
            .select_related("conducted_by")
            .order_by("conducted_on", "pk")
        ),
        assessments=list(
            Assessment.objects.filter(by_case)
            .select_related("assessed_by")
            .order_by("assessed_on", "pk")
        ),
        items=list(
            AssessmentItem.objects.filter(assessment__case__person_id=person_id)
            .select_related("need_type", "assessment")
            .order_by("assessment__assessed_on", "pk")
        ),
        goals=list(
            PlanGoal.objects.filter(plan__case__person_id=person_id)
            .select_related("plan")
            .order_by("plan__case_id", "created_at", "pk")
        ),
        steps=list(
            PlanStep.objects.filter(goal__plan__case__person_id=person_id)
            .select_related("goal__plan", "responsible_organisation", "responsible_user")
            .order_by("goal_id", "created_at", "pk")
        ),
        versions=list(
            PlanVersion.objects.filter(plan__case__person_id=person_id)
            .select_related("plan", "agreed_by")
            .order_by("plan__case_id", "number")
        ),
        appointments=list(
            Appointment.objects.filter(by_case)
            .select_related("organisation", "created_by")
            .order_by("starts_at", "pk")
        ),
        notes=list(
            Note.objects.filter(by_case)
            .select_related("author", "organisation")
            .order_by("created_at", "pk")
        ),
        documents=list(
            Document.objects.filter(by_case)
            .select_related("organisation", "uploaded_by")
            .order_by("uploaded_at", "pk")
        ),
        followups=list(
            FollowUp.objects.filter(by_case)
            .select_related("owner", "organisation", "done_by", "created_by")
            .order_by("due_on", "pk")
        ),
        consents=list(
            Consent.objects.filter(person_id=person_id)
            .select_related("recorded_by", "recorded_for", "withdrawn_by", "document")
            .prefetch_related(
                Prefetch("receiving_organisations", queryset=Organisation.objects.order_by("name")),
                "named_users",
            )
            .order_by("signed_on", "pk")
        ),
        agreements=[],  # filled below, from the team organisations
        break_glass=list(
            BreakGlassAccess.objects.filter(by_case)
            .select_related("user", "organisation")
            .order_by("granted_at", "pk")
        ),
        accesses=list(
            AccessLogEntry.objects.filter(person_id=person_id)
            .select_related("user", "organisation")
            .order_by("seq")
        ),
        deletions=list(
            DeletionRecord.objects.filter(person_id=person_id, dry_run=False).order_by(
                "performed_at", "pk"
            )
        ),
        history=list(person_change_history(person_id).select_related("actor", "content_type")),
        extra={key: source.load(person_id) for key, source in _DATA_SOURCES.items()},
    )


def _restrict(data: _Data, actor: Membership) -> _Data:
    """Keep only what the requesting organisation is responsible for or may see.

    The report answers for the actor's organisation as controller: its own cases of the
    person (and, on other organisations' cases, only the categories shared with it),
    the person-level data it may read, the consents it recorded or received, and the
    accesses of itself and of the organisations that received data through its cases.
    Other organisations' cases and notes stay out: they answer for their own data."""
    org_id = actor.organisation_id
    access = case_access_bulk(actor, data.cases)
    cases = [c for c in data.cases if access[c.pk].visible]
    ids = {c.pk for c in cases}
    led = {c.pk for c in cases if access[c.pk].is_lead}
    person_access = CaseAccess(case_id=0)
    for case in cases:
        person_access.merge(access[case.pk])

    def allowed(case_id: int, category: str) -> bool:
        return case_id in ids and access[case_id].allows(category)

    def domain(case_id: int, life_domain: str) -> bool:
        return allowed(case_id, _domain_category(life_domain))

    data.cases = cases
    if not person_access.allows("master"):
        data.household_others = 0
    if not person_access.allows("residence"):
        data.residence = []
        data.eligibility_facts = []
    if not person_access.allows("benefits"):
        data.benefits = []
    data.team = [m for m in data.team if allowed(m.case_id, "master")]
    data.intakes = [i for i in data.intakes if allowed(i.case_id, "education")]
    data.items = [i for i in data.items if domain(i.assessment.case_id, i.life_domain)]
    item_assessments = {i.assessment_id for i in data.items}
    data.assessments = [
        a for a in data.assessments if allowed(a.case_id, "plan") or a.pk in item_assessments
    ]
    data.goals = [g for g in data.goals if domain(g.plan.case_id, g.life_domain)]
    goal_ids = {g.pk for g in data.goals}
    data.steps = [s for s in data.steps if s.goal_id in goal_ids]
    data.versions = [v for v in data.versions if v.plan.case_id in led]
    data.appointments = [a for a in data.appointments if allowed(a.case_id, "plan")]
    data.notes = [
        n
        for n in data.notes
        if allowed(n.case_id, "notes")
        and (not n.is_sensitive or allowed(n.case_id, "health"))
        and (n.visibility == "case_team" or n.organisation_id == org_id)
    ]
    data.documents = [d for d in data.documents if allowed(d.case_id, "documents")]
    data.followups = [f for f in data.followups if f.case_id in led or f.organisation_id == org_id]
    data.break_glass = [b for b in data.break_glass if b.case_id in led]
    data.consents = [
        c
        for c in data.consents
        if c.recorded_for_id == org_id
        or any(o.pk == org_id for o in c.receiving_organisations.all())
    ]
    recipients = {org_id}
    recipients |= {m.organisation_id for m in data.team if m.case_id in led}
    recipients |= {
        o.pk
        for c in data.consents
        if c.recorded_for_id == org_id
        for o in c.receiving_organisations.all()
    }
    recipients |= {b.organisation_id for b in data.break_glass}
    scope = RestrictScope(
        organisation_id=org_id,
        case_ids=frozenset(ids),
        led=frozenset(led),
        allowed=allowed,
        recipients=recipients,
    )
    for key, source in _DATA_SOURCES.items():
        if key in data.extra:
            data.extra[key] = source.restrict(data.extra[key], scope)
    data.accesses = [a for a in data.accesses if a.organisation_id in recipients]
    kept = {
        (type(obj)._meta.label_lower, str(obj.pk))
        for rows in (
            [data.person],
            data.residence,
            data.benefits,
            data.cases,
            data.team,
            data.items,
            data.intakes,
            data.assessments,
            data.goals,
            data.steps,
            data.appointments,
            data.followups,
            data.consents,
            data.break_glass,
        )
        for obj in rows
    }
    kept |= {("people.personname", str(n.pk)) for n in data.person.other_names.all()}
    kept |= {("people.personlanguage", str(n.pk)) for n in data.person.languages.all()}
    data.history = [
        h
        for h in data.history
        if (f"{h.content_type.app_label}.{h.content_type.model}", str(h.object_pk)) in kept
        or (
            h.content_type.app_label == "people"
            and person_access.allows("master")
            and h.content_type.model in ("personname", "personlanguage")
        )
    ]
    return data


def _load_agreements(data: _Data) -> list[tuple[SharingAgreement, list[tuple[Case, Organisation]]]]:
    """Sharing agreements that let data of the person's cases flow to an organisation on
    a case team (valid now or not: the dates are shown), with the cases they cover."""
    orgs = {m.organisation_id: m.organisation for m in data.team}
    if not orgs:
        return []
    types = {o.org_type for o in orgs.values()}
    rows = SharingAgreement.objects.filter(
        Q(receiver_organisation_id__in=list(orgs))
        | Q(receiver_organisation__isnull=True, receiver_type__in=types)
    ).select_related("source_organisation", "receiver_organisation", "owner")
    cases = {c.pk: c for c in data.cases}
    pairs = {(m.case_id, m.organisation_id) for m in data.team}
    result = []
    for agreement in rows:
        covered = []
        for case_id, org_id in sorted(pairs):
            case, org = cases[case_id], orgs[org_id]
            receiver_ok = (
                agreement.receiver_organisation_id == org_id
                if agreement.receiver_organisation_id is not None
                else agreement.receiver_type == org.org_type
            )
            source_ok = (
                agreement.source_organisation_id == case.lead_organisation_id
                if agreement.source_organisation_id is not None
                else not agreement.source_type
                or agreement.source_type == case.lead_organisation.org_type
            )
            if receiver_ok and source_ok:
                covered.append((case, org))
        if covered:
            result.append((agreement, covered))
    return result


# --- the category sections ----------------------------------------------------------


def _timeline_rows(entries: list[Any], extra: Callable[[Any], dict[str, Any]]) -> list[dict]:
    timeline_mark_current(entries)
    return [
        {
            "id": e.pk,
            **extra(e),
            "valid_from": e.valid_from,
            "valid_to": e.valid_to,
            "current": e.current,
            "corrects": e.supersedes_id,
            "entered_in_error": e.is_retraction,
            "correction_reason": e.correction_reason,
            "recorded_at": e.recorded_at,
            "recorded_by": _user(e.recorded_by),
        }
        for e in entries
    ]


_TIMELINE_TAIL = _cols(
    ("valid_from", gettext_lazy("valid from"), DATE),
    ("valid_to", gettext_lazy("valid until"), DATE),
    ("current", gettext_lazy("current"), BOOL),
    ("corrects", gettext_lazy("corrects entry")),
    ("entered_in_error", gettext_lazy("entered in error"), BOOL),
    ("correction_reason", gettext_lazy("reason for correction")),
    ("recorded_at", gettext_lazy("recorded at"), DATETIME),
    ("recorded_by", gettext_lazy("recorded by")),
)


def _domain_category(life_domain: str) -> str:
    return str(LIFE_DOMAIN_CATEGORY.get(life_domain, Category.PLAN))


def _life_domain_tables(data: _Data, category: str) -> list[Table]:
    """Assessment items, goals and steps of the life domains belonging to `category`."""
    domains = {d for d in LifeDomain.values if _domain_category(d) == category}
    if not domains:
        return []
    labels = dict(LifeDomain.choices)
    items = [i for i in data.items if i.life_domain in domains]
    goals = [g for g in data.goals if g.life_domain in domains]
    steps = [s for s in data.steps if s.goal.life_domain in domains]
    return [
        Table(
            "assessment_items",
            gettext_lazy("Strengths and needs"),
            _cols(
                CASE_COL,
                ("assessed_on", gettext_lazy("assessment of"), DATE),
                ("life_domain", gettext_lazy("life domain")),
                ("kind", gettext_lazy("kind")),
                ("description", gettext_lazy("description")),
                ("need_type", gettext_lazy("type of need")),
                ("priority", gettext_lazy("priority")),
                ("status", gettext_lazy("status")),
            ),
            [
                {
                    "case": i.assessment.case_id,
                    "assessed_on": i.assessment.assessed_on,
                    "life_domain": str(labels.get(i.life_domain, i.life_domain)),
                    "kind": str(i.get_kind_display()),
                    "description": i.description,
                    "need_type": str(i.need_type) if i.need_type_id else "",
                    "priority": str(i.get_priority_display()) if i.priority else "",
                    "status": str(i.get_status_display()),
                }
                for i in items
            ],
        ),
        Table(
            "plan_goals",
            gettext_lazy("Goals of the integration plan"),
            _cols(
                CASE_COL,
                ("id", gettext_lazy("goal no.")),
                ("life_domain", gettext_lazy("life domain")),
                ("title", gettext_lazy("goal")),
                ("target_date", gettext_lazy("target date"), DATE),
                ("status", gettext_lazy("status")),
                ("created_at", gettext_lazy("recorded at"), DATETIME),
            ),
            [
                {
                    "case": g.plan.case_id,
                    "id": g.pk,
                    "life_domain": str(labels.get(g.life_domain, g.life_domain)),
                    "title": g.title,
                    "target_date": g.target_date,
                    "status": str(g.get_status_display()),
                    "created_at": g.created_at,
                }
                for g in goals
            ],
        ),
        Table(
            "plan_steps",
            gettext_lazy("Steps of the integration plan"),
            _cols(
                CASE_COL,
                ("goal", gettext_lazy("goal no.")),
                ("title", gettext_lazy("step")),
                ("responsible", gettext_lazy("responsible")),
                ("due_date", gettext_lazy("due date"), DATE),
                ("status", gettext_lazy("status")),
                ("created_at", gettext_lazy("recorded at"), DATETIME),
            ),
            [
                {
                    "case": s.goal.plan.case_id,
                    "goal": s.goal_id,
                    "title": s.title,
                    "responsible": [
                        x
                        for x in (
                            _("the person themselves") if s.responsible_is_client else "",
                            _org(s.responsible_organisation),
                            _user(s.responsible_user),
                        )
                        if x
                    ],
                    "due_date": s.due_date,
                    "status": str(s.get_status_display()),
                    "created_at": s.created_at,
                }
                for s in steps
            ],
        ),
    ]


def _note_table(key: str, title: str | Promise, notes: list[Note]) -> Table:
    return Table(
        key,
        title,
        _cols(
            CASE_COL,
            ("created_at", gettext_lazy("written at"), DATETIME),
            ("author", gettext_lazy("author")),
            ("organisation", gettext_lazy("organisation")),
            ("visibility", gettext_lazy("visible to")),
            ("special_category", gettext_lazy("special category"), BOOL),
            ("text", gettext_lazy("text")),
        ),
        [
            {
                "case": n.case_id,
                "created_at": n.created_at,
                "author": _user(n.author),
                "organisation": _org(n.organisation),
                "visibility": str(n.get_visibility_display()),
                "special_category": n.is_sensitive,
                "text": n.text,
            }
            for n in notes
        ],
    )


def _master(data: _Data) -> list[Table]:
    p = data.person
    return [
        Table(
            "person",
            gettext_lazy("Personal data"),
            _cols(
                ("family_name", gettext_lazy("family name")),
                ("given_names", gettext_lazy("given names")),
                ("birth_date", gettext_lazy("date of birth"), DATE),
                ("birth_date_estimated", gettext_lazy("date of birth estimated"), BOOL),
                ("gender", gettext_lazy("gender")),
                ("nationality", gettext_lazy("nationality")),
                ("district", gettext_lazy("district")),
                ("entry_date", gettext_lazy("date of entry to Germany"), DATE),
                ("phone", gettext_lazy("phone")),
                ("email", gettext_lazy("e-mail")),
                ("address", gettext_lazy("address")),
                ("created_at", gettext_lazy("recorded at"), DATETIME),
            ),
            [
                {
                    "family_name": p.family_name,
                    "given_names": p.given_names,
                    "birth_date": p.birth_date,
                    "birth_date_estimated": p.birth_date_estimated,
                    "gender": str(p.get_gender_display()),
                    "nationality": str(getattr(p.nationality, "name", p.nationality or "")),
                    "district": str(p.district) if p.district_id else "",
                    "entry_date": p.entry_date,
                    "phone": p.phone,
                    "email": p.email,
                    "address": p.address,
                    "created_at": p.created_at,
                }
            ],
        ),
        Table(
            "other_names",
            gettext_lazy("Other spellings of the name"),
            _cols(
                ("family_name", gettext_lazy("family name")),
                ("given_names", gettext_lazy("given names")),
                ("note", gettext_lazy("note")),
            ),
            [
                {"family_name": n.family_name, "given_names": n.given_names, "note": n.note}
                for n in p.other_names.all()
            ],
        ),
        Table(
            "languages",
            gettext_lazy("Languages"),
            _cols(("language", gettext_lazy("language")), ("level", gettext_lazy("level"))),
            [
                {
                    "language": str(lang.get_language_display()),
                    "level": str(lang.get_level_display()),
                }
                for lang in p.languages.all()
            ],
        ),
        Table(
            "cases",
            gettext_lazy("Cases"),
            _cols(
                ("id", gettext_lazy("case no.")),
                ("lead_organisation", gettext_lazy("lead organisation")),
                ("case_manager", gettext_lazy("case manager")),
                ("phase", gettext_lazy("phase")),
                ("opened_on", gettext_lazy("opened on"), DATE),
                ("closed_on", gettext_lazy("closed on"), DATE),
                ("closing_reason", gettext_lazy("closing reason")),
                ("closing_note", gettext_lazy("closing note")),
            ),
            [
                {
                    "id": c.pk,
                    "lead_organisation": _org(c.lead_organisation),
                    "case_manager": _user(c.case_manager),
                    "phase": str(c.get_phase_display()),
                    "opened_on": c.opened_on,
                    "closed_on": c.closed_on,
                    "closing_reason": str(c.get_closing_reason_display())
                    if c.closing_reason
                    else "",
                    "closing_note": c.closing_note,
                }
                for c in data.cases
            ],
        ),
        Table(
            "case_team",
            gettext_lazy("Case teams"),
            _cols(
                CASE_COL,
                ("user", gettext_lazy("staff member")),
                ("organisation", gettext_lazy("organisation")),
                ("team_role", gettext_lazy("role in the case")),
                ("added_at", gettext_lazy("added at"), DATETIME),
                ("added_by", gettext_lazy("added by")),
                ("removed_at", gettext_lazy("removed at"), DATETIME),
            ),
            [
                {
                    "case": m.case_id,
                    "user": _user(m.user),
                    "organisation": _org(m.organisation),
                    "team_role": m.team_role,
                    "added_at": m.added_at,
                    "added_by": _user(m.added_by),
                    "removed_at": m.removed_at,
                }
                for m in data.team
            ],
        ),
    ]


def _family(data: _Data) -> list[Table]:
    p = data.person
    rows = []
    if p.household_id:
        rows.append(
            {
                "household": p.household.label if p.household else "",
                "role": str(p.get_household_role_display()) if p.household_role else "",
                "other_members": data.household_others,
            }
        )
    return [
        Table(
            "household",
            gettext_lazy("Household"),
            _cols(
                ("household", gettext_lazy("household")),
                ("role", gettext_lazy("role in household")),
                ("other_members", gettext_lazy("number of other members")),
            ),
            rows,
        )
    ]


def _residence(data: _Data) -> list[Table]:
    return [
        Table(
            "residence_periods",
            gettext_lazy("Residence status, with all corrections"),
            _cols(
                ("id", gettext_lazy("entry no.")),
                ("status", gettext_lazy("residence status")),
                ("document_expiry", gettext_lazy("document valid until"), DATE),
                ("issuing_authority", gettext_lazy("issuing authority")),
                ("work_permission", gettext_lazy("work permission")),
            )
            + _TIMELINE_TAIL,
            _timeline_rows(
                data.residence,
                lambda e: {
                    "status": str(e.get_status_display()),
                    "document_expiry": e.document_expiry,
                    "issuing_authority": _org(e.issuing_authority),
                    "work_permission": str(e.get_work_permission_display()),
                },
            ),
        )
    ]


def _eligibility_facts(data: _Data) -> list[Table]:
    """The facts recorded for the eligibility check: one row per fact, empty ones too."""
    rows: list[dict[str, Any]] = []
    for record in data.eligibility_facts:
        for name in FLAG_FIELDS:
            value = getattr(record, name)
            if isinstance(value, bool):
                shown: Any = _("yes") if value else _("no")
            else:
                shown = value
            rows.append(
                {
                    "fact": str(PersonFacts._meta.get_field(name).verbose_name),  # type: ignore[union-attr]
                    "value": shown,
                    "updated_at": record.updated_at,
                    "updated_by": _user(record.updated_by),
                }
            )
    return [
        Table(
            "eligibility_facts",
            gettext_lazy("Facts for the eligibility check"),
            _cols(
                ("fact", gettext_lazy("fact")),
                ("value", gettext_lazy("value")),
                ("updated_at", gettext_lazy("last changed"), DATETIME),
                ("updated_by", gettext_lazy("changed by")),
            ),
            rows,
        )
    ]


def _benefits(data: _Data) -> list[Table]:
    return [
        Table(
            "benefit_periods",
            gettext_lazy("Benefits, with all corrections"),
            _cols(
                ("id", gettext_lazy("entry no.")),
                ("regime", gettext_lazy("benefit regime")),
                ("authority", gettext_lazy("paying authority")),
            )
            + _TIMELINE_TAIL,
            _timeline_rows(
                data.benefits,
                lambda e: {
                    "regime": str(e.get_regime_display()),
                    "authority": _org(e.authority),
                },
            ),
        )
    ]


def _intake_answers(intake: Intake) -> list[str]:
    lines = []
    for answer in intake.answers or []:
        value = answer.get("value") if isinstance(answer, dict) else answer
        if value is True:
            value = _("yes")
        elif value is False:
            value = _("no")
        elif value is None:
            value = "–"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        question = answer.get("question", "") if isinstance(answer, dict) else ""
        lines.append(f"{question}: {value}" if question else str(value))
    return lines


def _education(data: _Data) -> list[Table]:
    return [
        Table(
            "intakes",
            gettext_lazy("Intake interviews"),
            _cols(
                CASE_COL,
                ("conducted_on", gettext_lazy("conducted on"), DATE),
                ("conducted_by", gettext_lazy("conducted by")),
                ("interpreter_language", gettext_lazy("interpreter for")),
                ("answers", gettext_lazy("answers"), LINES),
            ),
            [
                {
                    "case": i.case_id,
                    "conducted_on": i.conducted_on,
                    "conducted_by": _user(i.conducted_by),
                    "interpreter_language": _language(i.interpreter_language),
                    "answers": _intake_answers(i),
                }
                for i in data.intakes
            ],
        )
    ]


def _health(data: _Data) -> list[Table]:
    return [
        _note_table(
            "sensitive_notes",
            gettext_lazy("Notes marked as special category (e.g. health)"),
            [n for n in data.notes if n.is_sensitive],
        )
    ]


def _notes(data: _Data) -> list[Table]:
    return [
        _note_table("notes", gettext_lazy("Notes"), [n for n in data.notes if not n.is_sensitive])
    ]


def _documents(data: _Data) -> list[Table]:
    return [
        Table(
            "documents",
            gettext_lazy("Documents (description only; copies on request)"),
            _cols(
                CASE_COL,
                ("title", gettext_lazy("title")),
                ("doc_type", gettext_lazy("document type")),
                ("original_filename", gettext_lazy("file name")),
                ("content_type", gettext_lazy("file type")),
                ("size", gettext_lazy("size (bytes)")),
                ("uploaded_at", gettext_lazy("uploaded at"), DATETIME),
                ("uploaded_by", gettext_lazy("uploaded by")),
                ("organisation", gettext_lazy("organisation")),
            ),
            [
                {
                    "case": d.case_id,
                    "title": d.title,
                    "doc_type": str(d.get_doc_type_display()),
                    "original_filename": d.original_filename,
                    "content_type": d.content_type,
                    "size": d.size,
                    "uploaded_at": d.uploaded_at,
                    "uploaded_by": _user(d.uploaded_by),
                    "organisation": _org(d.organisation),
                }
                for d in data.documents
            ],
        )
    ]


def _snapshot_lines(snapshot: Any) -> list[str]:
    if not isinstance(snapshot, dict):
        return []
    lines = []
    for goal in snapshot.get("goals", []):
        lines.append(str(goal.get("title", "")))
        lines += [f"– {step.get('title', '')}" for step in goal.get("steps", [])]
    return lines


def _plan(data: _Data) -> list[Table]:
    return [
        Table(
            "assessments",
            gettext_lazy("Assessments"),
            _cols(
                CASE_COL,
                ("assessed_on", gettext_lazy("date"), DATE),
                ("assessed_by", gettext_lazy("assessed by")),
                ("summary", gettext_lazy("summary")),
            ),
            [
                {
                    "case": a.case_id,
                    "assessed_on": a.assessed_on,
                    "assessed_by": _user(a.assessed_by),
                    "summary": a.summary,
                }
                for a in data.assessments
            ],
        ),
        Table(
            "plan_versions",
            gettext_lazy("Agreed versions of the integration plan"),
            _cols(
                CASE_COL,
                ("number", gettext_lazy("version")),
                ("agreed_on", gettext_lazy("agreed with the person on"), DATE),
                ("agreed_by", gettext_lazy("agreed by")),
                ("remarks", gettext_lazy("remarks")),
                ("content", gettext_lazy("goals and steps"), LINES),
            ),
            [
                {
                    "case": v.plan.case_id,
                    "number": v.number,
                    "agreed_on": v.agreed_on,
                    "agreed_by": _user(v.agreed_by),
                    "remarks": v.remarks,
                    "content": _snapshot_lines(v.snapshot),
                }
                for v in data.versions
            ],
        ),
        Table(
            "appointments",
            gettext_lazy("Appointments"),
            _cols(
                CASE_COL,
                ("starts_at", gettext_lazy("date and time"), DATETIME),
                ("organisation", gettext_lazy("organisation")),
                ("purpose", pgettext_lazy("data processing", "purpose")),
                ("location", gettext_lazy("location")),
                ("status", gettext_lazy("status")),
                ("outcome", gettext_lazy("outcome")),
                ("agreements", gettext_lazy("agreements")),
                ("created_by", gettext_lazy("recorded by")),
            ),
            [
                {
                    "case": a.case_id,
                    "starts_at": a.starts_at,
                    "organisation": _org(a.organisation),
                    "purpose": a.purpose,
                    "location": a.location,
                    "status": str(a.get_status_display()),
                    "outcome": a.outcome,
                    "agreements": a.agreements,
                    "created_by": _user(a.created_by),
                }
                for a in data.appointments
            ],
        ),
        Table(
            "followups",
            gettext_lazy("Follow-ups"),
            _cols(
                CASE_COL,
                ("title", gettext_lazy("subject")),
                ("due_on", gettext_lazy("due on"), DATE),
                ("owner", gettext_lazy("responsible")),
                ("organisation", gettext_lazy("organisation")),
                ("done_at", gettext_lazy("done at"), DATETIME),
                ("done_by", gettext_lazy("done by")),
            ),
            [
                {
                    "case": f.case_id,
                    "title": f.title,
                    "due_on": f.due_on,
                    "owner": _user(f.owner),
                    "organisation": _org(f.organisation),
                    "done_at": f.done_at,
                    "done_by": _user(f.done_by),
                }
                for f in data.followups
            ],
        ),
    ]


_SECTION_BUILDERS: dict[str, Callable[[_Data], list[Table]]] = {
    Category.MASTER: _master,
    Category.RESIDENCE: lambda data: _residence(data) + _eligibility_facts(data),
    Category.BENEFITS: _benefits,
    Category.EDUCATION: _education,
    Category.HEALTH: _health,
    Category.FAMILY: _family,
    Category.NOTES: _notes,
    Category.DOCUMENTS: _documents,
    Category.PLAN: _plan,
}


def _category_sections(data: _Data) -> list[Section]:
    sections = []
    for code, label in Category.choices:
        builder = _SECTION_BUILDERS.get(code)
        tables = builder(data) if builder else []
        tables += _life_domain_tables(data, code)
        for registered in _REGISTERED_SECTIONS.get(code, []):
            tables += registered(data)
        intro: str | Promise = ""
        if not tables:
            intro = gettext_lazy("lotse stores no data of this category.")
        sections.append(Section(code, label, tables, intro))
    return sections


# --- consents, sources, recipients ---------------------------------------------------


def _consent_status(consent: Consent, now: dt.datetime) -> str:
    today = timezone.localdate(now)
    if consent.withdrawn_at is not None and consent.withdrawn_at <= now:
        return pgettext("consent", "withdrawn")
    if consent.valid_until is not None and consent.valid_until < today:
        return _("expired")
    if consent.signed_on > today:
        return _("not yet valid")
    return _("valid")


_CONSENT_COLUMNS = _cols(
    ("id", gettext_lazy("consent no.")),
    ("purpose", pgettext_lazy("data processing", "purpose")),
    ("categories", gettext_lazy("data categories"), CATEGORIES),
    ("receiving_organisations", gettext_lazy("receiving organisations")),
    ("named_staff", gettext_lazy("only these staff members")),
    ("signed_on", gettext_lazy("signed on"), DATE),
    ("valid_until", gettext_lazy("valid until"), DATE),
    ("status", gettext_lazy("status")),
    ("withdrawn_at", gettext_lazy("withdrawn at"), DATETIME),
    ("withdrawal_note", gettext_lazy("note on the withdrawal")),
    ("interpreter_language", gettext_lazy("interpreter used for")),
    ("form_language", gettext_lazy("language of the form")),
    ("recorded_by", gettext_lazy("recorded by")),
    ("recorded_for", gettext_lazy("for organisation")),
)


def _consent_row(consent: Consent, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": consent.pk,
        "purpose": str(consent.get_purpose_display()),
        "categories": [c for c in ALL_CATEGORIES if c in consent.categories],
        "receiving_organisations": [o.name for o in consent.receiving_organisations.all()],
        "named_staff": [str(u) for u in consent.named_users.all()],
        "signed_on": consent.signed_on,
        "valid_until": consent.valid_until,
        "status": _consent_status(consent, now),
        "withdrawn_at": consent.withdrawn_at,
        "withdrawal_note": consent.withdrawal_note,
        "interpreter_language": _language(consent.interpreter_language),
        "form_language": _language(consent.form_language),
        "recorded_by": _user(consent.recorded_by),
        "recorded_for": _org(consent.recorded_for),
    }


def _sources(data: _Data) -> Table:
    """Who recorded what. Records kept only by the lead organisation count for it;
    timeline entries take the organisation from the access log entry of their writing."""
    lead = {c.pk: c.lead_organisation for c in data.cases}
    writer = {
        (e.object_type, e.object_id): e.organisation
        for e in data.accesses
        if e.action == AccessAction.CREATE
    }
    rows: list[dict[str, Any]] = []

    def add(kind: str | Promise, ref: Any, case_id: Any, at: Any, by: Any, org: Any) -> None:
        rows.append(
            {
                "record": f"{kind} {ref}".strip(),
                "case": case_id,
                "recorded_at": at,
                "recorded_by": _user(by),
                "organisation": _org(org),
            }
        )

    for c in data.cases:
        add(_("case"), f"#{c.pk}", c.pk, c.created_at, None, c.lead_organisation)
    for e in data.residence:
        org = writer.get(("residence_period", str(e.pk)))
        add(_("residence status"), f"#{e.pk}", None, e.recorded_at, e.recorded_by, org)
    for b_period in data.benefits:
        org = writer.get(("benefit_period", str(b_period.pk)))
        add(
            _("benefit period"),
            f"#{b_period.pk}",
            None,
            b_period.recorded_at,
            b_period.recorded_by,
            org,
        )
    for m in data.team:
        add(_("case team member"), m.user, m.case_id, m.added_at, m.added_by, lead[m.case_id])
    for i in data.intakes:
        add(_("intake"), f"#{i.pk}", i.case_id, i.created_at, i.conducted_by, lead[i.case_id])
    for a in data.assessments:
        add(_("assessment"), f"#{a.pk}", a.case_id, a.created_at, a.assessed_by, lead[a.case_id])
    for v in data.versions:
        case_id = v.plan.case_id
        add(_("agreed plan"), v.number, case_id, v.created_at, v.agreed_by, lead[case_id])
    for ap in data.appointments:
        add(
            _("appointment"), f"#{ap.pk}", ap.case_id, ap.created_at, ap.created_by, ap.organisation
        )
    for n in data.notes:
        add(_("note"), f"#{n.pk}", n.case_id, n.created_at, n.author, n.organisation)
    for d in data.documents:
        add(_("document"), f"#{d.pk}", d.case_id, d.uploaded_at, d.uploaded_by, d.organisation)
    for f in data.followups:
        add(_("follow-up"), f"#{f.pk}", f.case_id, f.created_at, f.created_by, f.organisation)
    for consent in data.consents:
        add(
            _("consent"),
            f"#{consent.pk}",
            None,
            consent.recorded_at,
            consent.recorded_by,
            consent.recorded_for,
        )
    for b in data.break_glass:
        add(_("emergency access"), f"#{b.pk}", b.case_id, b.granted_at, b.user, b.organisation)
    for source in _SOURCE_ROWS:
        source(data, add)
    rows.sort(key=lambda r: r["recorded_at"] or timezone.now())
    return Table(
        "sources",
        gettext_lazy("Who recorded the data"),
        _cols(
            ("record", gettext_lazy("record")),
            CASE_COL,
            ("recorded_at", gettext_lazy("recorded at"), DATETIME),
            ("recorded_by", gettext_lazy("recorded by")),
            ("organisation", gettext_lazy("organisation")),
        ),
        rows,
    )


def _recipients(data: _Data, now: dt.datetime) -> list[Recipient]:
    recipients: dict[int, Recipient] = {}

    def get(org: Organisation) -> Recipient:
        if org.pk not in recipients:
            recipients[org.pk] = Recipient(organisation=org)
        return recipients[org.pk]

    for c in data.cases:
        get(c.lead_organisation).relations.append(
            _("leads case %(case)s (since %(date)s)")
            % {"case": c.pk, "date": _display(c.opened_on, DATE)}
        )
    for m in data.team:
        if m.removed_at is None:
            text = _("case team of case %(case)s: %(user)s, %(role)s, since %(start)s")
        else:
            text = _("case team of case %(case)s: %(user)s, %(role)s, %(start)s to %(end)s")
        get(m.organisation).relations.append(
            text
            % {
                "case": m.case_id,
                "user": m.user,
                "role": m.team_role,
                "start": _display(m.added_at, DATETIME),
                "end": _display(m.removed_at, DATETIME),
            }
        )
    for consent in data.consents:
        for org in consent.receiving_organisations.all():
            r = get(org)
            if r.consents is None:
                r.consents = Table(
                    "consents",
                    _("Consents naming %(org)s") % {"org": org.name},
                    _CONSENT_COLUMNS,
                )
            r.consents.rows.append(_consent_row(consent, now))
    for agreement, covered in _load_agreements(data):
        for case, org in covered:
            r = get(org)
            if r.agreements is None:
                r.agreements = Table(
                    "sharing_agreements",
                    _("Sharing agreements and legal bases for %(org)s") % {"org": org.name},
                    _cols(
                        ("name", gettext_lazy("name")),
                        CASE_COL,
                        ("from", gettext_lazy("from organisation")),
                        ("categories", gettext_lazy("data categories"), CATEGORIES),
                        ("purposes", gettext_lazy("purposes")),
                        ("legal_basis", gettext_lazy("legal basis")),
                        ("valid_from", gettext_lazy("valid from"), DATE),
                        ("valid_to", gettext_lazy("valid until"), DATE),
                    ),
                )
            purposes = dict(Purpose.choices)
            types = dict(OrganisationType.choices)
            r.agreements.rows.append(
                {
                    "name": agreement.name,
                    "case": case.pk,
                    "from": _org(agreement.source_organisation)
                    or str(types.get(agreement.source_type, ""))
                    or _("any organisation"),
                    "categories": [c for c in ALL_CATEGORIES if c in agreement.categories],
                    "purposes": [str(purposes.get(p, p)) for p in agreement.purposes],
                    "legal_basis": agreement.legal_basis,
                    "valid_from": agreement.valid_from,
                    "valid_to": agreement.valid_to,
                }
            )
    for b in data.break_glass:
        r = get(b.organisation)
        if r.break_glass is None:
            r.break_glass = Table(
                "break_glass",
                _("Emergency accesses by %(org)s") % {"org": b.organisation.name},
                _cols(
                    CASE_COL,
                    ("user", gettext_lazy("staff member")),
                    ("granted_at", gettext_lazy("granted at"), DATETIME),
                    ("expires_at", gettext_lazy("expires at"), DATETIME),
                    ("reason", gettext_lazy("reason")),
                ),
            )
        r.break_glass.rows.append(
            {
                "case": b.case_id,
                "user": _user(b.user),
                "granted_at": b.granted_at,
                "expires_at": b.expires_at,
                "reason": b.reason,
            }
        )
    for source in _RECIPIENT_SOURCES:
        source(data, get)
    for e in data.accesses:
        if e.organisation is None:
            continue
        r = get(e.organisation)
        r.access_count += 1
        r.last_access = e.at if r.last_access is None else max(r.last_access, e.at)
        r.categories_accessed.update(c for c in e.categories if c in ALL_CATEGORIES)
    return sorted(recipients.values(), key=lambda r: r.organisation.name)


# --- the access log and the change history ---------------------------------------------

_ACTIONS = dict(AccessAction.choices)
_ROLES = dict(Role.choices)
_PURPOSES = {
    **dict(Purpose.choices),
    PURPOSE: gettext_lazy("information to the person (Art. 15)"),
    "emergency": gettext_lazy("emergency"),
    "retention": gettext_lazy("deletion after the retention period"),
}


def _accesses(data: _Data) -> Table:
    rows = []
    for e in data.accesses:
        redacted = e.is_redacted
        rows.append(
            {
                "seq": e.seq,
                "at": e.at,
                "user": _user(e.user),
                "organisation": _org(e.organisation),
                "role": str(_ROLES.get(e.role, e.role)),
                "action": str(_ACTIONS.get(e.action, e.action)),
                "categories": [] if redacted else list(e.categories),
                "basis": str(BASIS_LABELS.get(e.basis, e.basis)),
                "purpose": str(_PURPOSES.get(e.purpose, e.purpose)),
                "channel": e.channel,
                "object": "" if redacted else f"{e.object_type} {e.object_id}".strip(),
                "redacted": redacted,
            }
        )
    return Table(
        "accesses",
        gettext_lazy("Every access to and disclosure of the data"),
        _cols(
            ("seq", gettext_lazy("entry no.")),
            ("at", gettext_lazy("time"), DATETIME),
            ("user", gettext_lazy("staff member")),
            ("organisation", gettext_lazy("organisation")),
            ("role", gettext_lazy("role")),
            ("action", gettext_lazy("action")),
            ("categories", gettext_lazy("data categories"), CATEGORIES),
            ("basis", gettext_lazy("basis")),
            ("purpose", pgettext_lazy("data processing", "purpose")),
            ("channel", gettext_lazy("channel")),
            ("object", gettext_lazy("record")),
            ("redacted", gettext_lazy("details removed (retention)"), BOOL),
        ),
        rows,
    )


def _deletions(data: _Data) -> Table:
    policies = dict(RetentionPolicy.choices)
    return Table(
        "retention_runs",
        gettext_lazy("Data removed after the retention period"),
        _cols(
            ("performed_at", gettext_lazy("performed at"), DATETIME),
            ("policy", gettext_lazy("rule")),
            ("period_days", gettext_lazy("retention period (days)")),
            ("counts", gettext_lazy("records removed or blanked"), LINES),
        ),
        [
            {
                "performed_at": d.performed_at,
                "policy": str(policies.get(d.policy, d.policy)),
                "period_days": d.period_days,
                "counts": [f"{k}: {v}" for k, v in sorted(d.counts.items()) if v],
            }
            for d in data.deletions
        ],
    )


def _field_label(model: Any, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except (FieldDoesNotExist, AttributeError):
        return name


def _change_lines(model: Any, changes: Any) -> list[str]:
    lines = []
    for name, change in (changes or {}).items():
        label = _field_label(model, name)
        if isinstance(change, dict) and change.get("type") == "m2m":
            sign = "+" if change.get("operation") == "add" else "−"
            lines.append(f"{label}: {sign} {', '.join(change.get('objects', []))}")
        elif isinstance(change, list | tuple) and len(change) == 2:
            old, new = ("–" if v in (None, "", "None") else v for v in change)
            if old == new == "–":
                continue  # a new record's empty field
            lines.append(f"{label}: {old} → {new}")
    return lines


def _history(data: _Data) -> Table:
    """Field changes (auditlog). The acting organisation is that of the access-log
    entries written in the same request (the correlation id is the request id)."""
    org_of_request = {
        e.request_id: e.organisation for e in data.accesses if e.request_id and e.organisation
    }
    rows = []
    for entry in data.history:
        model = entry.content_type.model_class()
        rows.append(
            {
                "at": entry.timestamp,
                "actor": _user(entry.actor),
                "organisation": _org(org_of_request.get(entry.cid or "")),
                "record": f"{model._meta.verbose_name if model else entry.content_type.model} "
                f"#{entry.object_pk}",
                "action": str(entry.get_action_display()),
                "changes": entry.changes or {},
                "changed_fields": _change_lines(model, entry.changes),
            }
        )
    return Table(
        "change_history",
        gettext_lazy("Changes to the data, field by field"),
        _cols(
            ("at", gettext_lazy("time"), DATETIME),
            ("actor", gettext_lazy("changed by")),
            ("organisation", gettext_lazy("organisation")),
            ("record", gettext_lazy("record")),
            ("action", gettext_lazy("action")),
            ("changed_fields", gettext_lazy("changed fields (old → new)"), LINES),
        ),
        rows,
        json_only=("changes",),
    )


# --- the report ----------------------------------------------------------------------


def art15_report(*, actor: Membership, case: Case) -> Art15Report:
    """The report on the person of `case`, for a case worker of its lead organisation
    (404/403 as ``require_case`` decides). Logged as an export of all categories."""
    basis = require_case(actor, case, Perm.CASE_EDIT)
    now = timezone.now()
    data = _restrict(_load(case.person_id), actor)
    history = _history(data)
    report = Art15Report(
        person=data.person,
        case=case,
        generated_at=now,
        generated_by=actor,
        categories=_category_sections(data),
        consents=Table(
            "consents",
            gettext_lazy("Consents, including withdrawn and expired ones"),
            _CONSENT_COLUMNS,
            [_consent_row(c, now) for c in data.consents],
        ),
        sources=_sources(data),
        recipients=_recipients(data, now),
        accesses=_accesses(data),
        deletions=_deletions(data),
        history=history,
        retention_days=dict(getattr(settings, "LOTSE_RETENTION", {})),
    )
    access_log_record(
        actor=actor,
        action=AccessAction.EXPORT,
        person_ids=[case.person_id],
        categories=ALL_CATEGORIES,
        basis=basis,
        purpose=PURPOSE,
        object_type=OBJECT_TYPE,
        object_id=case.pk,
    )
    return report
