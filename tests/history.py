"""Test helper: grow a case's history, to show query counts do not grow with it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from lotse.casework import services
from lotse.people.services import benefit_period_add, residence_status_add

from .factories import CaseFactory, TeamMemberFactory


def grow_case_history(world, n: int, start: int = 0) -> None:
    """n more of everything on world.case (numbered from `start`), plus n more cases."""
    actor, case = world.case_manager, world.case
    for i in range(start, start + n):
        services.note_create(actor=actor, case=case, text=f"Vermerk {i}", visibility="case_team")
        services.followup_create(
            actor=actor,
            case=case,
            title=f"WV {i}",
            due_on=timezone.localdate() + dt.timedelta(days=i),
        )
        services.appointment_create(
            actor=actor,
            case=case,
            purpose=f"Termin {i}",
            starts_at=timezone.now() + dt.timedelta(days=i + 1),
        )
        services.assessment_create(
            actor=actor,
            case=case,
            assessed_on=timezone.localdate(),
            items=[{"life_domain": "language", "kind": "strength", "description": f"S {i}"}],
        )
        goal = services.plan_goal_add(actor=actor, case=case, life_domain="work", title=f"Z{i}")
        services.plan_step_add(
            actor=actor,
            goal=goal,
            title=f"S{i}",
            responsible_organisation=world.partner,
            responsible_user=world.partner_staff.user,
        )
        residence_status_add(
            actor=actor,
            person=case.person,
            status="ae_25a" if i % 2 else "duldung",
            valid_from=dt.date(2024, 1, 1) + dt.timedelta(days=30 * i),
        )
        benefit_period_add(
            actor=actor,
            person=case.person,
            regime="sgb2" if i % 2 else "asylblg_3",
            valid_from=dt.date(2024, 1, 1) + dt.timedelta(days=30 * i),
        )
        other = CaseFactory(lead_organisation=world.lead, case_manager=actor.user)
        TeamMemberFactory(case=other, user=world.partner_staff.user, organisation=world.partner)
