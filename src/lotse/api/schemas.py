"""Input and output schemas of the API. Codes are the model's code lists; dates ISO 8601.

Input schemas forbid unknown fields, so a misspelt field is an error instead
of being silently ignored. Input field names are the model's field names, so
a service's error for a field comes back under the name the client sent.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ConfigDict, field_validator

from lotse.casework.codes import (
    AppointmentStatus,
    ClosingReason,
    GoalStatus,
    LifeDomain,
    NoteVisibility,
    Phase,
    StepStatus,
)
from lotse.people.codes import (
    BenefitRegime,
    CefrLevel,
    Gender,
    Language,
    ResidenceStatus,
    WorkPermission,
)
from lotse.privacy.categories import Category

NOT_SHARED = "null unless the category {} is shared with you (see shared_categories)"


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


def shared(obj: Any, category: str) -> bool:
    """Whether `category` of the object's person is shared with the caller.

    The selectors attach the caller's `access` (privacy.access.CaseAccess) to every
    case and person they return; an object without it shows nothing but what
    identifies it (fail closed)."""
    access = getattr(obj, "access", None)
    return access is not None and access.allows(category)


def _master(field: str) -> Any:
    """Resolver: the attribute if master data are shared with the caller, else None."""

    def resolve(obj: Any) -> Any:
        return getattr(obj, field) if shared(obj, Category.MASTER) else None

    return staticmethod(resolve)


def _shared_list(obj: Any) -> list[str]:
    access = getattr(obj, "access", None)
    return sorted(access.categories) if access is not None else []


def _shared_map(obj: Any) -> dict[str, str]:
    access = getattr(obj, "access", None)
    return dict(sorted(access.categories.items())) if access is not None else {}


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # Times without offset are local times of the municipality (settings.TIME_ZONE).
    if value is not None and timezone.is_naive(value):
        return timezone.make_aware(value)
    return value


# --- references ----------------------------------------------------------------


class OrganisationRef(Schema):
    id: int
    name: str
    short_name: str


class UserRef(Schema):
    id: int
    name: str

    @staticmethod
    def resolve_name(obj: Any) -> str:
        return str(obj)


class PersonRef(Schema):
    """The person of a case: the name identifies the case, the birth date is master data."""

    id: int
    family_name: str
    given_names: str
    birth_date: dt.date | None = Field(description=NOT_SHARED.format("master"))


# --- persons -------------------------------------------------------------------


class NameIn(InputSchema):
    family_name: str = Field("", max_length=120)
    given_names: str = Field("", max_length=120)


class NameOut(Schema):
    family_name: str
    given_names: str


class LanguageIn(InputSchema):
    language: Language
    level: CefrLevel


class LanguageOut(Schema):
    language: str
    level: str


class PersonCaseRef(Schema):
    """A case of the person that the caller may see."""

    id: int
    lead_organisation: OrganisationRef
    phase: str
    opened_on: dt.date
    closed_on: dt.date | None


def _visible_cases(obj: Any) -> list[Any]:
    # Set by the selectors: only the cases the caller may see.
    return list(getattr(obj, "visible_case_list", []))


class PersonBase(Schema):
    """The name identifies the person and is always shown; every other field is master
    data (category `master`) and null unless master data are shared with you."""

    id: int
    family_name: str
    given_names: str
    birth_date: dt.date | None
    birth_date_estimated: bool | None
    gender: str | None
    nationality: str | None = Field(description="ISO 3166-1 alpha-2")
    district: str | None = Field(None, description="district code")

    resolve_birth_date = _master("birth_date")
    resolve_birth_date_estimated = _master("birth_date_estimated")
    resolve_gender = _master("gender")

    @staticmethod
    def resolve_nationality(obj: Any) -> str | None:
        return str(obj.nationality.code or "") if shared(obj, Category.MASTER) else None

    @staticmethod
    def resolve_district(obj: Any) -> str | None:
        return obj.district.code if obj.district_id and shared(obj, Category.MASTER) else None


class PersonListItem(PersonBase):
    cases: list[PersonCaseRef]
    shared_categories: list[str] = Field(
        description="categories of the person shared with you (over all your cases of theirs)"
    )

    resolve_cases = staticmethod(_visible_cases)
    resolve_shared_categories = staticmethod(_shared_list)


class PersonOut(PersonBase):
    """Master data of a person (category `master`; null when it is not shared)."""

    entry_date: dt.date | None
    phone: str | None
    email: str | None
    address: str | None
    other_names: list[NameOut] | None = Field(description="other spellings (master data)")
    languages: list[LanguageOut] | None
    updated_at: dt.datetime | None

    resolve_entry_date = _master("entry_date")
    resolve_phone = _master("phone")
    resolve_email = _master("email")
    resolve_address = _master("address")
    resolve_updated_at = _master("updated_at")

    @staticmethod
    def resolve_other_names(obj: Any) -> list[Any] | None:
        return list(obj.other_names.all()) if shared(obj, Category.MASTER) else None

    @staticmethod
    def resolve_languages(obj: Any) -> list[Any] | None:
        return list(obj.languages.all()) if shared(obj, Category.MASTER) else None


class PersonDetailOut(PersonOut):
    cases: list[PersonCaseRef] = Field(description="the person's cases you may see")
    shared_categories: dict[str, str] = Field(
        description="category → basis (lead_organisation, consent, agreement, break_glass) "
        "of what is shared with you of this person, over all your cases of theirs"
    )

    resolve_cases = staticmethod(_visible_cases)
    resolve_shared_categories = staticmethod(_shared_map)


class Page(Schema):
    count: int = Field(description="items in scope matching the filters, on all pages")
    page: int
    pages: int
    page_size: int


class PersonPage(Page):
    items: list[PersonListItem]


class PersonListQuery(InputSchema):
    q: str = Field("", max_length=200, description="name in any spelling or script")
    birth_date: dt.date | None = None
    page: int = Field(1, ge=1)


class PersonFieldsIn(InputSchema):
    family_name: str = Field(max_length=120)
    given_names: str = Field(max_length=120)
    birth_date: dt.date
    birth_date_estimated: bool = False
    gender: Gender
    nationality: str = Field(description="ISO 3166-1 alpha-2, e.g. SY; XS stateless")
    district: str | None = Field(None, description="district code")
    entry_date: dt.date | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    other_names: list[NameIn] = Field(default_factory=list)
    languages: list[LanguageIn] = Field(default_factory=list)

    @field_validator("nationality")
    @classmethod
    def normalise_nationality(cls, value: str) -> str:
        return value.strip().upper()


class PersonCreateIn(PersonFieldsIn):
    opened_on: dt.date | None = Field(None, description="case opened on; default today")
    confirm_not_duplicate: bool = Field(
        False, description="register although persons in scope look alike"
    )


class PersonPatchIn(InputSchema):
    """Only the fields sent are changed; `other_names` and `languages` replace the lists."""

    family_name: str = Field("", max_length=120)
    given_names: str = Field("", max_length=120)
    birth_date: dt.date | None = None
    birth_date_estimated: bool = False
    gender: Gender | None = None
    nationality: str = ""
    district: str | None = None
    entry_date: dt.date | None = None
    phone: str = ""
    email: str = ""
    address: str = ""
    other_names: list[NameIn] | None = None
    languages: list[LanguageIn] | None = None

    @field_validator("nationality")
    @classmethod
    def normalise_nationality(cls, value: str) -> str:
        return value.strip().upper()


class CaseRef(Schema):
    id: int
    phase: str
    opened_on: dt.date


class PersonCreatedOut(Schema):
    person: PersonDetailOut
    case: CaseRef


# --- timelines -----------------------------------------------------------------


class TimelineEntryOut(Schema):
    id: int
    valid_from: dt.date
    valid_to: dt.date | None
    current: bool = Field(description="part of the current timeline (not corrected, not retracted)")
    supersedes: int | None = Field(description="id of the entry this one corrects")
    is_retraction: bool = Field(description="withdraws the entry it supersedes")
    correction_reason: str
    recorded_at: dt.datetime
    recorded_by: UserRef | None

    @staticmethod
    def resolve_current(obj: Any) -> bool:
        current = getattr(obj, "current", None)
        return bool(obj.is_current if current is None else current)

    @staticmethod
    def resolve_supersedes(obj: Any) -> int | None:
        return obj.supersedes_id


class ResidenceOut(TimelineEntryOut):
    status: str
    status_label: str
    document_expiry: dt.date | None
    issuing_authority: OrganisationRef | None
    work_permission: str

    @staticmethod
    def resolve_status_label(obj: Any) -> str:
        return str(obj.get_status_display())


class BenefitOut(TimelineEntryOut):
    regime: str
    regime_label: str
    authority: OrganisationRef | None

    @staticmethod
    def resolve_regime_label(obj: Any) -> str:
        return str(obj.get_regime_display())


class ResidenceIn(InputSchema):
    status: ResidenceStatus
    valid_from: dt.date
    valid_to: dt.date | None = None
    document_expiry: dt.date | None = None
    issuing_authority: int | None = Field(None, description="organisation id")
    work_permission: WorkPermission = WorkPermission.UNKNOWN
    close_open: bool = Field(
        True, description="end the open period before valid_from by a superseding copy"
    )


class ResidenceCorrectionIn(InputSchema):
    """A correction supersedes the entry; fields not sent keep their value.
    `retract: true` withdraws the entry (entered in error) without replacement."""

    correction_reason: str = Field(max_length=200)
    retract: bool = False
    status: ResidenceStatus | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    document_expiry: dt.date | None = None
    issuing_authority: int | None = None
    work_permission: WorkPermission | None = None


class BenefitIn(InputSchema):
    regime: BenefitRegime
    valid_from: dt.date
    valid_to: dt.date | None = None
    authority: int | None = Field(None, description="organisation id")
    close_open: bool = True


class BenefitCorrectionIn(InputSchema):
    correction_reason: str = Field(max_length=200)
    retract: bool = False
    regime: BenefitRegime | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None
    authority: int | None = None


# --- cases ---------------------------------------------------------------------


class CaseOut(Schema):
    """The case header: identifies the case for everybody who may see it."""

    id: int
    person: PersonRef
    lead_organisation: OrganisationRef
    case_manager: UserRef
    phase: str
    opened_on: dt.date
    closed_on: dt.date | None
    closing_reason: str
    closing_note: str
    updated_at: dt.datetime

    @staticmethod
    def resolve_person(obj: Any) -> dict[str, Any]:
        person = obj.person
        return {
            "id": person.pk,
            "family_name": person.family_name,
            "given_names": person.given_names,
            "birth_date": person.birth_date if shared(obj, Category.MASTER) else None,
        }


class CaseListItem(CaseOut):
    current_status: str | None = Field(
        description="current residence status code; " + NOT_SHARED.format("residence")
    )
    shared_categories: list[str] = Field(description="categories of the case shared with you")

    @staticmethod
    def resolve_current_status(obj: Any) -> str | None:
        if not shared(obj, Category.RESIDENCE):
            return None
        return getattr(obj, "current_status", None)

    resolve_shared_categories = staticmethod(_shared_list)


class CasePage(Page):
    items: list[CaseListItem]


class CaseListQuery(InputSchema):
    q: str = Field("", max_length=200, description="name in any spelling or script")
    birth_date: dt.date | None = None
    status: ResidenceStatus | None = Field(None, description="current residence status")
    phase: Phase | None = None
    organisation: int | None = Field(None, description="lead or case team organisation id")
    mine: bool = Field(False, description="only cases you manage")
    include_closed: bool = False
    page: int = Field(1, ge=1)


class CasePatchIn(InputSchema):
    """Set the phase (closing needs `closing_reason`) and/or the case manager."""

    phase: Phase | None = None
    closing_reason: ClosingReason | None = None
    closing_note: str = ""
    closed_on: dt.date | None = None
    case_manager: int | None = Field(None, description="user id")


class TeamMemberOut(Schema):
    id: int
    user: UserRef
    organisation: OrganisationRef
    team_role: str
    added_at: dt.datetime


class TeamMemberIn(InputSchema):
    member: int = Field(description="membership id (user in an organisation)")
    team_role: str = Field(max_length=120)


# --- plan ----------------------------------------------------------------------


class StepOut(Schema):
    id: int
    title: str
    responsible_organisation: OrganisationRef | None
    responsible_user: UserRef | None
    responsible_is_client: bool
    due_date: dt.date | None
    status: str


class GoalOut(Schema):
    id: int
    life_domain: str
    title: str
    target_date: dt.date | None
    status: str
    steps: list[StepOut]

    @staticmethod
    def resolve_steps(obj: Any) -> list[Any]:
        return list(obj.steps.all())


class PlanVersionOut(Schema):
    number: int
    agreed_on: dt.date
    agreed_by: UserRef
    remarks: str
    snapshot: dict[str, Any]
    created_at: dt.datetime


class PlanOut(Schema):
    goals: list[GoalOut] = Field(
        description="goals (with their steps) whose life domain's category is shared with you"
    )
    versions: list[PlanVersionOut] | None = Field(
        description="agreed versions, newest first; null unless your organisation leads the "
        "case (a version holds the whole plan)"
    )


class GoalIn(InputSchema):
    life_domain: LifeDomain
    title: str = Field(max_length=300)
    target_date: dt.date | None = None
    status: GoalStatus = GoalStatus.OPEN


class GoalPatchIn(InputSchema):
    life_domain: LifeDomain | None = None
    title: str = Field("", max_length=300)
    target_date: dt.date | None = None
    status: GoalStatus | None = None


class StepIn(InputSchema):
    title: str = Field(max_length=300)
    responsible_organisation: int | None = Field(None, description="organisation id")
    responsible_user: int | None = Field(None, description="user id")
    responsible_is_client: bool = False
    due_date: dt.date | None = None
    status: StepStatus = StepStatus.OPEN


class StepPatchIn(InputSchema):
    status: StepStatus


class PlanAgreeIn(InputSchema):
    agreed_on: dt.date
    remarks: str = ""


# --- appointments, notes, follow-ups, documents ------------------------------------


class AppointmentOut(Schema):
    id: int
    organisation: OrganisationRef
    starts_at: dt.datetime
    purpose: str
    location: str
    status: str
    outcome: str
    agreements: str
    created_by: UserRef
    created_at: dt.datetime
    updated_at: dt.datetime


class AppointmentIn(InputSchema):
    starts_at: dt.datetime = Field(description="ISO 8601; without offset: local time")
    purpose: str = Field(max_length=300)
    location: str = Field("", max_length=200)
    status: AppointmentStatus = AppointmentStatus.PLANNED
    outcome: str = ""
    agreements: str = ""

    @field_validator("starts_at")
    @classmethod
    def local_time(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value)


class AppointmentPatchIn(InputSchema):
    starts_at: dt.datetime | None = None
    purpose: str = Field("", max_length=300)
    location: str = Field("", max_length=200)
    status: AppointmentStatus | None = None
    outcome: str = ""
    agreements: str = ""

    @field_validator("starts_at")
    @classmethod
    def local_time(cls, value: dt.datetime | None) -> dt.datetime | None:
        return _aware(value)


class NoteOut(Schema):
    id: int
    author: UserRef
    organisation: OrganisationRef
    text: str
    visibility: str
    is_sensitive: bool
    created_at: dt.datetime


class NoteIn(InputSchema):
    text: str = Field(max_length=20000)
    visibility: NoteVisibility = NoteVisibility.ORGANISATION
    is_sensitive: bool = Field(False, description="special category (e.g. health)")


class FollowUpOut(Schema):
    id: int
    title: str
    due_on: dt.date
    owner: UserRef
    organisation: OrganisationRef
    done_at: dt.datetime | None
    done_by: UserRef | None
    created_by: UserRef
    created_at: dt.datetime


class FollowUpIn(InputSchema):
    title: str = Field(max_length=300)
    due_on: dt.date
    owner: int | None = Field(None, description="user id; default: yourself")


class DocumentOut(Schema):
    id: int
    doc_type: str
    title: str
    content_type: str
    size: int
    organisation: OrganisationRef
    uploaded_by: UserRef
    uploaded_at: dt.datetime


class IntakeOut(Schema):
    id: int
    conducted_on: dt.date
    conducted_by: UserRef
    interpreter_language: str
    answers: list[dict[str, Any]]


class AssessmentItemOut(Schema):
    id: int
    life_domain: str
    kind: str
    description: str
    need_type: str | None = Field(description="need type code")
    priority: str
    status: str

    @staticmethod
    def resolve_need_type(obj: Any) -> str | None:
        return obj.need_type.code if obj.need_type_id else None


class AssessmentOut(Schema):
    """An assessment with the strengths and needs whose life domain's category is shared
    with you; the summary is plan data (empty unless `plan` is shared)."""

    id: int
    assessed_on: dt.date
    assessed_by: UserRef
    summary: str
    items: list[AssessmentItemOut]

    @staticmethod
    def resolve_items(obj: Any) -> list[Any]:
        # Set by casework.selectors.case_detail: only the items of shared categories.
        return list(getattr(obj, "shown_items", []))


class HouseholdMemberOut(Schema):
    """Another member of the person's household whom you may see."""

    id: int
    family_name: str
    given_names: str
    household_role: str
    case_id: int | None = Field(description="a case of theirs you may see")

    @staticmethod
    def resolve_case_id(obj: Any) -> int | None:
        return getattr(obj, "visible_case_id", None)


def _section(category: str, description: str) -> Any:
    return Field(description=f"{description}; " + NOT_SHARED.format(category))


class CaseDetailOut(Schema):
    """The case file as the case page shows it: what is shared with you, category by
    category (DESIGN §5). A section whose category is not shared is null."""

    case: CaseOut
    basis: str = Field(
        description="the strongest basis on which you see the case: lead_organisation, "
        "break_glass, consent or agreement"
    )
    shared_categories: dict[str, str] = Field(
        description="category → basis of each category shared with you"
    )
    can_edit: bool
    can_contribute: bool
    person: PersonOut
    residence: list[ResidenceOut] | None = _section("residence", "residence status timeline")
    benefits: list[BenefitOut] | None = _section("benefits", "benefit timeline")
    team: list[TeamMemberOut] | None = _section("master", "active case team")
    household: list[HouseholdMemberOut] | None = _section("family", "household members")
    plan: PlanOut
    appointments: list[AppointmentOut] | None = _section("plan", "appointments")
    notes: list[NoteOut] | None = _section(
        "notes", "notes you may see (sensitive ones only with health)"
    )
    followups: list[FollowUpOut] | None = _section("plan", "follow-ups of your organisation")
    documents: list[DocumentOut] | None = _section("documents", "documents (metadata)")
    intakes: list[IntakeOut] | None = _section("education", "intakes")
    assessments: list[AssessmentOut] = Field(
        description="assessments with the items of shared life domains"
    )

    @staticmethod
    def resolve_shared_categories(obj: Any) -> dict[str, str]:
        return dict(sorted(obj.access.categories.items()))

    @staticmethod
    def resolve_residence(obj: Any) -> list[Any] | None:
        if not obj.access.allows(Category.RESIDENCE):
            return None
        return _chronological(obj.residence.current + obj.residence.history)

    @staticmethod
    def resolve_benefits(obj: Any) -> list[Any] | None:
        if not obj.access.allows(Category.BENEFITS):
            return None
        return _chronological(obj.benefits.current + obj.benefits.history)

    @staticmethod
    def resolve_team(obj: Any) -> list[Any] | None:
        return obj.team if obj.access.allows(Category.MASTER) else None

    @staticmethod
    def resolve_household(obj: Any) -> list[Any] | None:
        return obj.household if obj.access.allows(Category.FAMILY) else None

    @staticmethod
    def resolve_plan(obj: Any) -> dict[str, Any]:
        versions = list(obj.plan.versions.all()) if obj.plan.pk and obj.access.is_lead else None
        return {"goals": obj.goals, "versions": versions}

    @staticmethod
    def resolve_appointments(obj: Any) -> list[Any] | None:
        return obj.appointments if obj.access.allows(Category.PLAN) else None

    @staticmethod
    def resolve_notes(obj: Any) -> list[Any] | None:
        return obj.notes if obj.access.allows(Category.NOTES) else None

    @staticmethod
    def resolve_followups(obj: Any) -> list[Any] | None:
        return obj.followups if obj.access.allows(Category.PLAN) else None

    @staticmethod
    def resolve_documents(obj: Any) -> list[Any] | None:
        return obj.documents if obj.access.allows(Category.DOCUMENTS) else None

    @staticmethod
    def resolve_intakes(obj: Any) -> list[Any] | None:
        return obj.intakes if obj.access.allows(Category.EDUCATION) else None

    @staticmethod
    def resolve_assessments(obj: Any) -> list[Any]:
        return list(obj.assessments)


def _chronological(entries: list[Any]) -> list[Any]:
    return sorted(entries, key=lambda e: (e.valid_from, e.recorded_at, e.pk))
