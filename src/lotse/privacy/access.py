"""Who may see which person — the scope every selector of personal data goes through.

Minimum of issue #2 (DESIGN §5.2 a/b without consent): a user acting in a
membership with a casework role sees a person only if the acting organisation
leads one of the person's cases or is on its active case team. For everybody
else the person does not exist: lists, search, counts and the API agree
because they all start from `visible_cases` / `visible_persons`.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from lotse.casework.models import Case, CaseTeamMember
from lotse.core.models import Membership
from lotse.core.roles import Perm
from lotse.people.models import Person


class Basis:
    LEAD_ORGANISATION = "lead_organisation"
    CASE_TEAM = "case_team"


def _may_see_cases(actor: Membership | None) -> bool:
    return actor is not None and actor.has_perm(Perm.CASE_VIEW)


def _team_q(actor: Membership, case_ref: str = "pk") -> Exists:
    return Exists(
        CaseTeamMember.objects.filter(
            case=OuterRef(case_ref), organisation_id=actor.organisation_id, removed_at__isnull=True
        )
    )


def visible_cases(actor: Membership | None) -> QuerySet[Case]:
    if not _may_see_cases(actor):
        return Case.objects.none()
    assert actor is not None
    return Case.objects.filter(Q(lead_organisation_id=actor.organisation_id) | _team_q(actor))


def visible_persons(actor: Membership | None) -> QuerySet[Person]:
    if not _may_see_cases(actor):
        return Person.objects.none()
    return Person.objects.filter(Exists(visible_cases(actor).filter(person=OuterRef("pk"))))


def case_basis(actor: Membership | None, case: Case) -> str | None:
    """The basis on which the actor may see this case, or None."""
    if not _may_see_cases(actor):
        return None
    assert actor is not None
    if case.lead_organisation_id == actor.organisation_id:
        return Basis.LEAD_ORGANISATION
    on_team = CaseTeamMember.objects.filter(
        case=case, organisation_id=actor.organisation_id, removed_at__isnull=True
    ).exists()
    return Basis.CASE_TEAM if on_team else None


def is_lead(actor: Membership | None, case: Case) -> bool:
    return actor is not None and case.lead_organisation_id == actor.organisation_id


def person_basis(actor: Membership | None, person_id: int) -> str | None:
    """The strongest basis on which the actor sees the person, or None."""
    if not _may_see_cases(actor):
        return None
    assert actor is not None
    cases = visible_cases(actor).filter(person_id=person_id)
    if cases.filter(lead_organisation_id=actor.organisation_id).exists():
        return Basis.LEAD_ORGANISATION
    return Basis.CASE_TEAM if cases.exists() else None


def require_person_edit(actor: Membership, person_id: int) -> str:
    """Person master data and timelines are kept by the lead organisation's casework roles."""
    if not actor.has_perm(Perm.CASE_EDIT):
        raise PermissionDenied
    basis = person_basis(actor, person_id)
    if basis is None:
        raise Http404
    if basis != Basis.LEAD_ORGANISATION:
        raise PermissionDenied
    return basis


def require_case(actor: Membership, case: Case, perm: str) -> str:
    """Raise 404 when the case is out of scope, 403 when the role lacks `perm`;
    return the basis. Editing (CASE_EDIT) is for the lead organisation only."""
    basis = case_basis(actor, case)
    if basis is None:
        raise Http404
    if not actor.has_perm(perm):
        raise PermissionDenied
    if perm == Perm.CASE_EDIT and basis != Basis.LEAD_ORGANISATION:
        raise PermissionDenied
    return basis
