"""/cases/{id}/plan: goals, steps, agreement with the person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lotse.casework.models import PlanGoal, PlanStep, PlanVersion


@pytest.fixture
def plan_url(world) -> str:
    return f"/cases/{world.case.pk}/plan"


def _goal(api, plan_url, **changes):
    body = {"life_domain": "work", "title": "Ausbildung als Elektroniker", **changes}
    response = api.post(f"{plan_url}/goals", "case_manager", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_plan_with_goals_steps_and_versions(api, world, plan_url, log):
    goal = _goal(api, plan_url, target_date="2030-08-01")
    step = api.post(
        f"{plan_url}/goals/{goal['id']}/steps",
        "case_manager",
        {
            "title": "Praktikum",
            "responsible_organisation": world.partner.pk,
            "responsible_user": world.partner_staff.user_id,
            "due_date": "2030-03-01",
        },
    )
    assert step.status_code == 201, step.content
    assert step.json()["responsible_organisation"]["short_name"] == "JC"
    agreed = api.post(
        f"{plan_url}/agree",
        "case_manager",
        {"agreed_on": timezone.localdate().isoformat(), "remarks": "mit Dolmetscher"},
    )
    assert agreed.status_code == 201 and agreed.json()["number"] == 1
    plan = api.get(plan_url, "partner_staff").json()
    (g,) = plan["goals"]
    assert g["title"] == "Ausbildung als Elektroniker" and g["steps"][0]["title"] == "Praktikum"
    # A version is a snapshot of the whole plan: for the lead organisation only, as on the page.
    assert plan["versions"] is None
    read = log.entries()[-1]
    assert read.action == "read" and read.basis == "consent"
    assert set(read.categories) == {"plan", "work"}  # goals carry their life domain's category
    (version,) = api.get(plan_url, "case_manager").json()["versions"]
    assert version["snapshot"]["goals"][0]["steps"][0]["title"] == "Praktikum"
    assert api.get(f"/cases/{world.case.pk}", "case_manager").json()["case"]["phase"] == (
        "implementation"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"life_domain": "astrology", "title": "x"}, "life_domain"),
        ({"life_domain": "work", "title": ""}, "title"),
        ({"life_domain": "work"}, "title"),
        ({"life_domain": "work", "title": "x", "target_date": "2000-01-01"}, "target_date"),
        ({"life_domain": "work", "title": "x", "status": "maybe"}, "status"),
    ],
)
def test_bad_goals_are_422(api, world, plan_url, body, field):
    response = api.post(f"{plan_url}/goals", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not PlanGoal.objects.exists()


def test_goal_update(api, world, plan_url):
    goal = _goal(api, plan_url)
    response = api.patch(f"{plan_url}/goals/{goal['id']}", "case_manager", {"status": "achieved"})
    assert response.status_code == 200 and response.json()["status"] == "achieved"
    assert response.json()["title"] == goal["title"]
    bad = api.patch(f"{plan_url}/goals/{goal['id']}", "case_manager", {"title": ""})
    assert bad.status_code == 422 and "title" in bad.json()["errors"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x"}, "responsible_organisation"),
        ({"title": "x", "responsible_user": 999999}, "responsible_user"),
        ({"title": "x", "responsible_organisation": 999999}, "responsible_organisation"),
        (
            {
                "title": "x",
                "responsible_organisation": "{other}",
                "responsible_user": "{partner_user}",
            },
            "responsible_user",
        ),
        ({"title": "x", "responsible_is_client": True, "due_date": "someday"}, "due_date"),
    ],
)
def test_bad_steps_are_422(api, world, plan_url, body, field):
    goal = _goal(api, plan_url)
    fill = {"{other}": world.other.pk, "{partner_user}": world.partner_staff.user_id}
    body = {k: fill.get(v, v) if isinstance(v, str) else v for k, v in body.items()}
    response = api.post(f"{plan_url}/goals/{goal['id']}/steps", "case_manager", body)
    assert response.status_code == 422 and field in response.json()["errors"], response.content
    assert not PlanStep.objects.exists()


def test_step_progress_by_the_responsible_partner_only(api, world, plan_url):
    goal = _goal(api, plan_url)
    steps = {}
    for org in (world.lead, world.partner):
        response = api.post(
            f"{plan_url}/goals/{goal['id']}/steps",
            "case_manager",
            {"title": f"Schritt {org.short_name}", "responsible_organisation": org.pk},
        )
        steps[org.short_name] = response.json()["id"]
    ok = api.patch(f"{plan_url}/steps/{steps['JC']}", "partner_staff", {"status": "in_progress"})
    assert ok.status_code == 200 and ok.json()["status"] == "in_progress"
    refused = api.patch(f"{plan_url}/steps/{steps['KI']}", "partner_staff", {"status": "done"})
    assert refused.status_code == 403
    assert PlanStep.objects.get(pk=steps["KI"]).status == "open"
    bad = api.patch(f"{plan_url}/steps/{steps['KI']}", "case_manager", {"status": "finished"})
    assert bad.status_code == 422 and "status" in bad.json()["errors"]


def test_agreement_rules(api, world, plan_url):
    today = timezone.localdate()
    empty = api.post(f"{plan_url}/agree", "case_manager", {"agreed_on": today.isoformat()})
    assert empty.status_code == 422 and "agreed_on" in empty.json()["errors"]
    _goal(api, plan_url)
    future = (today + dt.timedelta(days=2)).isoformat()
    ahead = api.post(f"{plan_url}/agree", "case_manager", {"agreed_on": future})
    assert ahead.status_code == 422 and "agreed_on" in ahead.json()["errors"]
    assert (
        api.post(f"{plan_url}/agree", "case_manager", {"agreed_on": today.isoformat()}).status_code
        == 201
    )
    twice = api.post(f"{plan_url}/agree", "case_manager", {"agreed_on": today.isoformat()})
    assert twice.status_code == 422
    assert PlanVersion.objects.count() == 1


def test_plan_of_a_foreign_case_does_not_exist(api, world):
    url = f"/cases/{world.foreign_case.pk}/plan"
    assert api.get(url, "case_manager").status_code == 404
    assert (
        api.post(f"{url}/goals", "case_manager", {"life_domain": "work", "title": "x"}).status_code
        == 404
    )
    assert not PlanGoal.objects.exists()
