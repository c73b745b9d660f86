"""Reads of the alliance directory (issue #8): the directory, the responsibility
matrix with its gaps and duplicates, and the pathway finder ("who helps with what").

No personal data is read: the finder takes a residence status and an age as typed by
the case manager, never a person, so nothing goes to the access log. Every selector
takes the acting membership and needs ``NETWORK_VIEW``. The computations on loaded
rows are pure functions (``matching_target_groups``, ``field_for_need``,
``matrix_build``; ``TargetGroup.contains``), tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from lotse.core.models import Membership, NeedType, Organisation
from lotse.core.roles import Perm
from lotse.offers.codes import FieldOfAction
from lotse.people.codes import STATUS_GROUP, ResidenceStatus
from lotse.people.models import TargetGroup

from .models import Contact, Responsibility

# A need type's life domain (casework.codes.LifeDomain) → the field of action
# (offers.codes.FieldOfAction) whose responsible organisations help with it. There is
# no such mapping elsewhere: life domains describe the person, fields of action the
# municipal strategy. Residence, livelihood and family questions go to counselling.
NEED_DOMAIN_FIELD: dict[str, str] = {
    "language": FieldOfAction.LANGUAGE,
    "education": FieldOfAction.EDUCATION,
    "work": FieldOfAction.WORK,
    "housing": FieldOfAction.HOUSING,
    "health": FieldOfAction.HEALTH,
    "participation": FieldOfAction.PARTICIPATION,
    "residence": FieldOfAction.COUNSELLING,
    "livelihood": FieldOfAction.COUNSELLING,
    "family": FieldOfAction.COUNSELLING,
}
# The life domain "work" covers training and work; these need types are training.
NEED_CODE_FIELD: dict[str, str] = {
    "berufsorientierung": FieldOfAction.TRAINING,
    "ausbildungsvorbereitung": FieldOfAction.TRAINING,
    "ausbildungsplatz": FieldOfAction.TRAINING,
    "ausbildungsbegleitung": FieldOfAction.TRAINING,
    "einstiegsqualifizierung": FieldOfAction.TRAINING,
}
MAX_AGE = 120


def _require(actor: Membership | None) -> None:
    if actor is None or not actor.has_perm(Perm.NETWORK_VIEW):
        raise PermissionDenied


# --- pure parts -------------------------------------------------------------------------


def field_for_need(code: str, life_domain: str) -> str:
    """The field of action of a need type (its code first, then its life domain)."""
    return NEED_CODE_FIELD.get(code) or NEED_DOMAIN_FIELD.get(life_domain, "counselling")


def matching_target_groups(
    groups: Iterable[TargetGroup], status: str, age: int
) -> list[TargetGroup]:
    """The target groups a person with this residence status and age belongs to."""
    status_group = STATUS_GROUP.get(status, "")
    return [g for g in groups if g.contains(status_group, age)]


@dataclass(frozen=True)
class Cell:
    target_group: TargetGroup
    field_of_action: str
    field_label: str
    responsibilities: tuple[Responsibility, ...]

    @property
    def gap(self) -> bool:
        """Nobody is responsible."""
        return not self.responsibilities

    @property
    def duplicate(self) -> bool:
        """Several are responsible and at least one has no agreed role."""
        return len(self.responsibilities) > 1 and any(
            not r.role.strip() for r in self.responsibilities
        )


@dataclass(frozen=True)
class MatrixRow:
    target_group: TargetGroup
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Matrix:
    fields: tuple[tuple[str, str], ...]  # (code, label)
    rows: tuple[MatrixRow, ...]

    @property
    def cells(self) -> list[Cell]:
        return [c for row in self.rows for c in row.cells]

    @property
    def gaps(self) -> list[Cell]:
        return [c for c in self.cells if c.gap]

    @property
    def duplicates(self) -> list[Cell]:
        return [c for c in self.cells if c.duplicate]


def matrix_build(
    groups: Sequence[TargetGroup],
    fields: Sequence[tuple[str, str]],
    responsibilities: Iterable[Responsibility],
) -> Matrix:
    """Target groups × fields of action → the responsibilities of each cell."""
    by_cell: dict[tuple[int, str], list[Responsibility]] = {}
    for r in responsibilities:
        by_cell.setdefault((r.target_group_id, r.field_of_action), []).append(r)
    rows = tuple(
        MatrixRow(
            target_group=g,
            cells=tuple(
                Cell(g, code, label, tuple(by_cell.get((g.pk, code), ()))) for code, label in fields
            ),
        )
        for g in groups
    )
    return Matrix(fields=tuple(fields), rows=rows)


# --- database reads ---------------------------------------------------------------------


def _fields() -> list[tuple[str, str]]:
    return [(str(code), str(label)) for code, label in FieldOfAction.choices]


def _responsibilities() -> QuerySet[Responsibility]:
    return Responsibility.objects.filter(
        organisation__is_active=True, target_group__is_active=True
    ).select_related("organisation", "target_group", "contact")


def directory(*, actor: Membership | None, q: str = "") -> list[Organisation]:
    """Active organisations with their contacts (``org.contacts.all()``) and their
    responsibilities (``org.responsibilities.all()``), optionally searched by name,
    short name, contact or function. Three queries, whatever the number of rows."""
    _require(actor)
    orgs = Organisation.objects.filter(is_active=True)
    q = q.strip()
    if q:
        hits = (
            Q(name__icontains=q)
            | Q(short_name__icontains=q)
            | Q(contacts__name__icontains=q)
            | Q(contacts__function__icontains=q)
        )
        orgs = orgs.filter(pk__in=Organisation.objects.filter(hits).values("pk"))
    return list(
        orgs.select_related("district").prefetch_related(
            Prefetch("contacts", queryset=Contact.objects.order_by("name")),
            Prefetch(
                "responsibilities",
                queryset=Responsibility.objects.filter(target_group__is_active=True)
                .select_related("target_group", "contact")
                .order_by("target_group__order", "field_of_action"),
            ),
        )
    )


def matrix(*, actor: Membership | None) -> Matrix:
    """The responsibility matrix of the active target groups, with gaps and duplicates."""
    _require(actor)
    groups = list(TargetGroup.objects.filter(is_active=True))
    return matrix_build(groups, _fields(), _responsibilities())


@dataclass
class PathwayEntry:
    organisation: Organisation
    responsibilities: list[Responsibility] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    @property
    def roles(self) -> list[str]:
        return [r.role for r in self.responsibilities if r.role]


@dataclass
class Pathway:
    status: str
    status_label: str
    status_group: str
    age: int
    need: NeedType | None
    field_of_action: str
    field_label: str
    target_groups: list[TargetGroup]
    entries: list[PathwayEntry]

    @property
    def gap(self) -> bool:
        return not self.entries


def pathway(
    *,
    actor: Membership | None,
    status: str,
    age: int | None,
    need_code: str | None = None,
    field: str | None = None,
) -> Pathway:
    """Who helps a person with this residence status and age with this need (or field
    of action): the target groups they belong to and the organisations responsible
    for them in the need's field of action, each with its contacts (the contact named
    for the responsibility, else all of the organisation). ValidationError by field
    (status, age, need, field) on bad input."""
    _require(actor)
    errors: dict[str, list[str]] = {}
    if status not in ResidenceStatus.values:
        errors["status"] = [_("Choose a residence status.")]
    if age is None or not 0 <= age <= MAX_AGE:
        errors["age"] = [_("Enter an age between 0 and %(max)s.") % {"max": MAX_AGE}]
    need: NeedType | None = None
    if need_code:
        need = NeedType.objects.filter(code=need_code, is_active=True).first()
        if need is None:
            errors["need"] = [_("Choose a need type.")]
    if field and field not in FieldOfAction.values:
        errors["field"] = [_("Choose a field of action.")]
    if not need_code and not field and "need" not in errors:
        errors["need"] = [_("Choose a need type or a field of action.")]
    if errors:
        raise ValidationError(errors)
    assert age is not None  # checked above
    chosen = field_for_need(need.code, need.life_domain) if need else str(field)
    groups = matching_target_groups(TargetGroup.objects.filter(is_active=True), status, age)
    rows = (
        _responsibilities()
        .filter(target_group__in=groups, field_of_action=chosen)
        .prefetch_related(Prefetch("organisation__contacts", queryset=Contact.objects.all()))
        .order_by("organisation__name", "target_group__order")
    )
    entries: dict[int, PathwayEntry] = {}
    for r in rows:
        entry = entries.setdefault(r.organisation_id, PathwayEntry(organisation=r.organisation))
        entry.responsibilities.append(r)
    for entry in entries.values():
        named = [r.contact for r in entry.responsibilities if r.contact is not None]
        entry.contacts = list(dict.fromkeys(named)) or list(entry.organisation.contacts.all())
    return Pathway(
        status=status,
        status_label=str(ResidenceStatus(status).label),
        status_group=STATUS_GROUP.get(status, ""),
        age=age,
        need=need,
        field_of_action=chosen,
        field_label=str(FieldOfAction(chosen).label),
        target_groups=groups,
        entries=list(entries.values()),
    )
