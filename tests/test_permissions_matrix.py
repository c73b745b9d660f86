"""One table of view × role (Integreat style): every case view answers every role as
specified. 404 means the case does not exist for that user; 403 means the role may
not use the view at all (returned whatever the id, so it discloses nothing)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from lotse.casework.models import Appointment, Assessment, FollowUp, PlanGoal, PlanStep

OK, DENIED, HIDDEN = 200, 403, 404

# Views on one case: name → the kind of right they need.
CASE_VIEWS = {
    "casework:detail": "view",
    "casework:plan_print": "lead_view",  # the printed plan covers every life domain
    "casework:person_edit": "edit",
    "casework:residence_new": "edit",
    "casework:benefit_new": "edit",
    "casework:phase": "edit",
    "casework:household": "edit",
    "casework:team_add": "edit",
    "casework:intake_new": "edit",
    "casework:assessment_new": "edit",
    "casework:goal_new": "edit",
    "casework:plan_agree": "edit",
    "casework:appointment_new": "contribute",
    "casework:note_new": "contribute",
    "casework:document_upload": "contribute",
    "casework:followup_new": "contribute",
    "referrals:new": "edit",
    "referrals:participation_new": "edit",
    "referrals:chain": "view",
}

# role → expected status per kind of right
EXPECTED = {
    "case_manager": {"view": OK, "edit": OK, "contribute": OK, "lead_view": OK},
    "team_lead": {"view": OK, "edit": OK, "contribute": OK, "lead_view": OK},
    "partner_staff": {"view": OK, "edit": DENIED, "contribute": OK, "lead_view": DENIED},
    "partner_colleague": {"view": OK, "edit": DENIED, "contribute": OK, "lead_view": DENIED},
    "outsider": {"view": HIDDEN, "edit": HIDDEN, "contribute": HIDDEN, "lead_view": HIDDEN},
    "coordinator": {"view": DENIED, "edit": DENIED, "contribute": DENIED, "lead_view": DENIED},
    "analyst": {"view": DENIED, "edit": DENIED, "contribute": DENIED, "lead_view": DENIED},
    "volunteer": {"view": DENIED, "edit": DENIED, "contribute": DENIED, "lead_view": DENIED},
    "org_admin": {"view": DENIED, "edit": DENIED, "contribute": DENIED, "lead_view": DENIED},
    "sysadmin": {"view": DENIED, "edit": DENIED, "contribute": DENIED, "lead_view": DENIED},
}


def _membership(world, role):
    return world.partner_colleague if role == "partner_colleague" else world.by_role()[role]


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("view", list(CASE_VIEWS))
def test_case_view_matrix(world, client, role, view):
    from .conftest import login

    login(client, _membership(world, role))
    response = client.get(reverse(view, args=[world.case.pk]))
    assert response.status_code == EXPECTED[role][CASE_VIEWS[view]], (role, view)


@pytest.mark.parametrize("role", ["case_manager", "team_lead", "partner_staff"])
@pytest.mark.parametrize("view", list(CASE_VIEWS))
def test_foreign_case_does_not_exist(world, client, role, view):
    from .conftest import login

    login(client, _membership(world, role))
    # Roles without the right get 403 whatever the id; all others must not see the case.
    kind = CASE_VIEWS[view]
    expected = HIDDEN if EXPECTED[role][kind] == OK or kind == "lead_view" else DENIED
    assert client.get(reverse(view, args=[world.foreign_case.pk])).status_code == expected


LIST_VIEWS = {
    "core:dashboard": {
        "case_manager",
        "team_lead",
        "partner_staff",
        "partner_colleague",
        "outsider",
        "coordinator",
        "analyst",
        "volunteer",
        "org_admin",
        "sysadmin",
    },
    "casework:list": {
        "case_manager",
        "team_lead",
        "partner_staff",
        "partner_colleague",
        "outsider",
    },
    "casework:register": {"case_manager", "team_lead", "outsider"},
    "casework:guides": {"org_admin", "sysadmin"},
}


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("view", list(LIST_VIEWS))
def test_page_matrix(world, client, role, view):
    from .conftest import login

    login(client, _membership(world, role))
    status = client.get(reverse(view)).status_code
    assert status == (OK if role in LIST_VIEWS[view] else DENIED), (role, view)


def test_anonymous_is_sent_to_login(world, client):
    for view in ("core:dashboard", "casework:list"):
        response = client.get(reverse(view))
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(reverse("casework:detail", args=[world.case.pk]))
    assert response.status_code == 302


def test_objects_of_another_case_are_not_reachable_through_my_case(world, as_member):
    """Ids of objects on a foreign case give 404 even when combined with my own case id."""
    from lotse.casework import services
    from lotse.casework.models import Case

    foreign = Case.objects.get(pk=world.foreign_case.pk)
    goal = PlanGoal.objects.create(plan=foreign.plan, life_domain="work", title="Fremdziel")
    step = PlanStep.objects.create(goal=goal, title="Fremdschritt", responsible_is_client=True)
    assessment = Assessment.objects.create(
        case=foreign, assessed_on=foreign.opened_on, assessed_by=world.outsider.user
    )
    followup = services.followup_create(
        actor=world.outsider, case=foreign, title="x", due_on=foreign.opened_on
    )
    appointment = Appointment.objects.create(
        case=foreign,
        organisation=world.other,
        starts_at="2030-01-01T10:00Z",
        purpose="x",
        created_by=world.outsider.user,
    )
    client = as_member(world.case_manager)
    mine = world.case.pk
    urls = [
        reverse("casework:step_new", args=[mine, goal.pk]),
        reverse("casework:assessment_item_new", args=[mine, assessment.pk]),
        reverse("casework:appointment_edit", args=[mine, appointment.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("casework:step_status", args=[mine, step.pk]), {"status": "done"}
        ).status_code
        == 404
    )
    assert (
        client.post(reverse("casework:followup_done", args=[mine, followup.pk])).status_code == 404
    )
    followup.refresh_from_db()
    step.refresh_from_db()
    assert followup.done_at is None and step.status == "open"
    assert FollowUp.objects.filter(case=foreign).count() == 1
