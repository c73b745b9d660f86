"""Roles (DESIGN §2) and what each may do.

Roles are held per membership in an organisation, never globally. This table is
the single place that maps a role to permissions; views ask `has_perm`, and a
test walks every view × role (tests/test_permissions_matrix.py).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CASE_MANAGER = "case_manager", _("Case manager")
    PARTNER_STAFF = "partner_staff", _("Partner agency staff")
    TEAM_LEAD = "team_lead", _("Team lead")
    COORDINATOR = "coordinator", _("Coordinator")
    ANALYST = "analyst", _("Analyst")
    VOLUNTEER = "volunteer", _("Volunteer")
    ORG_ADMIN = "org_admin", _("Organisation administrator")
    SYSADMIN = "sysadmin", _("System administrator")


class Perm:
    """Permission names. Case data permissions still need the case to be in scope."""

    CASE_VIEW = "case.view"  # see persons/cases in scope (lead org or case team)
    CASE_CREATE = "case.create"  # register a person and open a case for the acting org
    CASE_EDIT = "case.edit"  # phase, person master data, timelines, intake, plan, team
    CASE_CONTRIBUTE = "case.contribute"  # appointments, notes, documents, follow-ups
    GUIDE_EDIT = "guide.edit"  # interview guides of the organisation
    AGREEMENT_EDIT = "agreement.edit"  # sharing agreements / legal bases
    BREAK_GLASS = "break_glass"  # emergency access to a case of the team
    API_TOKEN = "api.token"  # noqa: S105 — a permission name, not a secret
    OFFER_VIEW = "offer.view"  # the offer catalogue of the alliance (no personal data)
    OFFER_EDIT = "offer.edit"  # offers of the own organisation (coordinators: all)
    OFFER_EDIT_ALL = "offer.edit_all"  # offers of every provider, import
    # Referrals addressed to the own organisation: accept, reject, start, outcome.
    REFERRAL_RECEIVE = "referral.receive"
    # Measure careers (#6): the detection rules of the alliance, and counts of flags
    # (aggregates with small counts suppressed; no person).
    CAREER_RULES = "careers.rules"
    CAREER_STATS = "careers.stats"
    # Analytics (#7): pseudonymised, disclosure-controlled statistics; managing them
    # (refreshing the data, importing the authorities' aggregate lists).
    ANALYTICS_VIEW = "analytics.view"
    ANALYTICS_MANAGE = "analytics.manage"
    # The classification of needs per target group for the gap analysis.
    GAPS_CLASSIFY = "analytics.classify"
    # The goal system (goals, indicators, targets) of the steering group.
    GOALS_EDIT = "analytics.goals"
    # The directory of the alliance (#8): organisations, contacts, responsibilities and
    # the pathway finder (no personal data); editing it is the alliance office's.
    NETWORK_VIEW = "network.view"
    NETWORK_EDIT = "network.edit"


CASEWORK_ROLES = frozenset({Role.CASE_MANAGER, Role.TEAM_LEAD, Role.PARTNER_STAFF})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.CASE_MANAGER: frozenset(
        {
            Perm.CASE_VIEW,
            Perm.CASE_CREATE,
            Perm.CASE_EDIT,
            Perm.CASE_CONTRIBUTE,
            Perm.API_TOKEN,
            Perm.BREAK_GLASS,
            Perm.REFERRAL_RECEIVE,
        }
    ),
    Role.TEAM_LEAD: frozenset(
        {
            Perm.CASE_VIEW,
            Perm.CASE_CREATE,
            Perm.CASE_EDIT,
            Perm.CASE_CONTRIBUTE,
            Perm.API_TOKEN,
            Perm.BREAK_GLASS,
            Perm.OFFER_EDIT,
            Perm.REFERRAL_RECEIVE,
            # Statistics of the alliance; the gap analysis drills down to own cases.
            Perm.ANALYTICS_VIEW,
        }
    ),
    Role.PARTNER_STAFF: frozenset(
        {
            Perm.CASE_VIEW,
            Perm.CASE_CONTRIBUTE,
            Perm.API_TOKEN,
            Perm.BREAK_GLASS,
            Perm.OFFER_EDIT,
            Perm.REFERRAL_RECEIVE,
        }
    ),
    # Coordinators, analysts and administrators see no personal case data (DESIGN §2).
    # Coordinators keep the offer landscape of every provider.
    Role.COORDINATOR: frozenset(
        {
            Perm.API_TOKEN,
            Perm.OFFER_EDIT,
            Perm.OFFER_EDIT_ALL,
            Perm.CAREER_RULES,
            Perm.CAREER_STATS,
            Perm.ANALYTICS_VIEW,
            Perm.GAPS_CLASSIFY,
            Perm.GOALS_EDIT,
        }
    ),
    Role.ANALYST: frozenset(
        {
            Perm.API_TOKEN,
            Perm.CAREER_STATS,
            Perm.ANALYTICS_VIEW,
            Perm.ANALYTICS_MANAGE,
            Perm.GAPS_CLASSIFY,
            Perm.GOALS_EDIT,
        }
    ),
    Role.VOLUNTEER: frozenset(),
    Role.ORG_ADMIN: frozenset(
        {Perm.GUIDE_EDIT, Perm.AGREEMENT_EDIT, Perm.API_TOKEN, Perm.OFFER_EDIT}
    ),
    Role.SYSADMIN: frozenset({Perm.GUIDE_EDIT, Perm.AGREEMENT_EDIT}),
}
# The catalogue holds no personal data: everybody in the alliance may read it.
ROLE_PERMISSIONS = {role: perms | {Perm.OFFER_VIEW} for role, perms in ROLE_PERMISSIONS.items()}
# The directory of the alliance (#8) holds no personal data either: every role working
# with cases or for the alliance reads it; the alliance office (coordinators) keeps it.
NETWORK_READERS = frozenset(
    {
        Role.CASE_MANAGER,
        Role.TEAM_LEAD,
        Role.PARTNER_STAFF,
        Role.COORDINATOR,
        Role.ANALYST,
        Role.ORG_ADMIN,
    }
)
ROLE_PERMISSIONS = {
    role: perms
    | ({Perm.NETWORK_VIEW} if role in NETWORK_READERS else set())
    | ({Perm.NETWORK_EDIT} if role == Role.COORDINATOR else set())
    for role, perms in ROLE_PERMISSIONS.items()
}


def role_has_perm(role: str, perm: str) -> bool:
    return perm in ROLE_PERMISSIONS.get(role, frozenset())
