"""The goal system (issue #7): the tree page with a result goal's value, status and
trend; creating, editing and deleting goals through the pages; bad combinations and
parameters write nothing; who may see and edit; the access log of the tree."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from lotse.analytics.goals import goal_create, goal_delete, goal_update
from lotse.analytics.models import Goal, GoalLevel, IndicatorType
from lotse.core.models import AccessLogEntry

from ..conftest import login

TREE = reverse("analytics:goals")
NEW = reverse("analytics:goal_new")
EDITORS = ["coordinator", "analyst"]
NO_VIEW = ["case_manager", "partner_staff", "volunteer", "org_admin"]


def edit_url(goal: Goal) -> str:
    return reverse("analytics:goal_edit", args=[goal.pk])


def delete_url(goal: Goal) -> str:
    return reverse("analytics:goal_delete", args=[goal.pk])


@pytest.fixture
def tree(world):
    principle = goal_create(
        actor=world.coordinator,
        parent=None,
        level=GoalLevel.PRINCIPLE,
        title="Young immigrants find their way into work",
        description="Grundsatz",
    )
    framework = goal_create(
        actor=world.coordinator,
        parent=principle,
        level=GoalLevel.FRAMEWORK,
        title="Every young person has a plan",
    )
    result = goal_create(
        actor=world.coordinator,
        parent=framework,
        level=GoalLevel.RESULT,
        title="Plans for most cases",
        indicator=IndicatorType.PLAN_SHARE,
        params={"months": 6},
        target_value=80,
    )
    return principle, framework, result


# --- services ---------------------------------------------------------------------------


def test_create_fills_default_params(world):
    principle = goal_create(actor=world.analyst, parent=None, level="principle", title="P")
    framework = goal_create(actor=world.analyst, parent=principle, level="framework", title="F")
    result = goal_create(
        actor=world.analyst,
        parent=framework,
        level="result",
        title="R",
        indicator=IndicatorType.STARTED_WITHIN,
        params={"weeks": 6},
    )
    assert result.params == {"category": "integrationskurs", "weeks": 6, "months": 12}


@pytest.mark.parametrize(
    ("level", "parent_level", "key"),
    [
        ("principle", "principle", "parent"),
        ("framework", None, "parent"),
        ("result", "principle", "parent"),
        ("framework", "framework", "parent"),
    ],
)
def test_bad_level_parent_writes_nothing(world, tree, level, parent_level, key):
    parents = {g.level: g for g in tree}
    before = Goal.objects.count()
    extra = {"indicator": IndicatorType.PLAN_SHARE} if level == "result" else {}
    with pytest.raises(ValidationError) as exc:
        goal_create(
            actor=world.coordinator,
            parent=parents.get(parent_level),
            level=level,
            title="X",
            **extra,
        )
    assert key in exc.value.message_dict
    assert Goal.objects.count() == before


@pytest.mark.parametrize(
    ("indicator", "params", "target", "key"),
    [
        (IndicatorType.PLAN_SHARE, {"months": 0}, None, "months"),
        (IndicatorType.REFERRAL_DAYS, {"category": "nonsense"}, None, "category"),
        (IndicatorType.OFFER_SHARE, {"categories": []}, None, "categories"),
        (IndicatorType.OFFER_SHARE, {"categories": ["eq", "nope"]}, None, "categories"),
        (IndicatorType.FLAGGED_SHARE, {"rules": ["no_such_rule"]}, None, "rules"),
        (IndicatorType.PLAN_SHARE, {"weeks": 3}, None, "params"),
        (IndicatorType.PLAN_SHARE, {}, 150, "target_value"),
        (IndicatorType.REFERRAL_DAYS, {}, -1, "target_value"),
        ("", {}, None, "indicator"),
    ],
)
def test_bad_params_write_nothing(world, tree, indicator, params, target, key):
    _principle, framework, result = tree
    before = list(Goal.objects.values_list("pk", "params", "target_value"))
    with pytest.raises(ValidationError) as exc:
        goal_create(
            actor=world.coordinator,
            parent=framework,
            level="result",
            title="X",
            indicator=indicator,
            params=params,
            target_value=target,
        )
    assert key in exc.value.message_dict
    with pytest.raises(ValidationError):
        goal_update(
            actor=world.coordinator,
            goal=result,
            title="X",
            indicator=indicator,
            params=params,
            target_value=target,
        )
    assert list(Goal.objects.values_list("pk", "params", "target_value")) == before


def test_days_target_may_exceed_100_and_rules_are_codes(world, tree):
    _principle, framework, _result = tree
    goal = goal_create(
        actor=world.coordinator,
        parent=framework,
        level="result",
        title="Fast starts",
        indicator=IndicatorType.REFERRAL_DAYS,
        target_value=120,
        higher_is_better=False,
    )
    assert goal.target_value == 120
    flagged = goal_create(
        actor=world.coordinator,
        parent=framework,
        level="result",
        title="Few careers",
        indicator=IndicatorType.FLAGGED_SHARE,
        params={"rules": ["gap", "cycle"]},
    )
    assert flagged.params == {"rules": ["cycle", "gap"]}


def test_only_result_goals_have_an_indicator(world, tree):
    principle, _framework, _result = tree
    with pytest.raises(ValidationError) as exc:
        goal_update(
            actor=world.coordinator, goal=principle, title="P", indicator=IndicatorType.PLAN_SHARE
        )
    assert "indicator" in exc.value.message_dict


def test_services_need_goals_edit(world, tree):
    principle, _framework, result = tree
    for role in ("team_lead", "case_manager", "volunteer"):
        member = getattr(world, role)
        with pytest.raises(PermissionDenied):
            goal_create(actor=member, parent=None, level="principle", title="P")
        with pytest.raises(PermissionDenied):
            goal_update(actor=member, goal=result, title="X")
        with pytest.raises(PermissionDenied):
            goal_delete(actor=member, goal=principle)
    assert Goal.objects.count() == 3


def test_delete_removes_the_subtree(world, tree):
    principle, _framework, _result = tree
    assert goal_delete(actor=world.coordinator, goal=principle) == 3
    assert not Goal.objects.exists()


# --- pages ------------------------------------------------------------------------------


def test_tree_page_renders_three_levels(client, world, tree):
    principle, framework, result = tree
    response = login(client, world.team_lead).get(TREE)
    assert response.status_code == 200
    html = response.content.decode()
    for goal in tree:
        assert goal.title in html
    # Nested: the framework goal inside the principle's list item, the result inside it.
    assert html.index(principle.title) < html.index(framework.title) < html.index(result.title)
    assert html.count("<ul") >= 3
    assert str(IndicatorType.PLAN_SHARE.label) in html
    # No data: the value cannot be measured.
    assert f'id="goal-{result.pk}-value">•<' in html
    assert f'id="goal-{result.pk}-trend"' in html
    assert html.count("<h1") == 1 and "<h2" in html and "<h3" in html
    assert 'id="disclosure-legend"' in html
    # A team lead sees, but does not edit.
    assert 'id="goal-new"' not in html
    assert f'id="goal-{result.pk}-edit"' not in html


def test_tree_page_shows_edit_links_to_editors(client, world, tree):
    principle, _framework, result = tree
    html = login(client, world.analyst).get(TREE).content.decode()
    assert 'id="goal-new"' in html
    assert f'id="goal-{result.pk}-edit"' in html
    assert f'id="goal-{principle.pk}-add"' in html
    assert f'id="goal-{result.pk}-add"' not in html  # nothing below a result goal


def test_tree_view_is_logged(client, world, tree):
    login(client, world.coordinator)
    before = AccessLogEntry.objects.count()
    assert client.get(TREE).status_code == 200
    assert AccessLogEntry.objects.count() == before + 1
    entry = AccessLogEntry.objects.order_by("-seq").first()
    assert entry.person_id is None and entry.object_id == "goals"


@pytest.mark.parametrize("role", EDITORS)
def test_create_edit_delete_through_pages(client, world, role):
    login(client, getattr(world, role))
    assert client.get(NEW).status_code == 200
    response = client.post(NEW, {"title": "Work for all", "description": "", "order": "1"})
    assert response.status_code == 302
    principle = Goal.objects.get(title="Work for all")
    assert principle.level == GoalLevel.PRINCIPLE and principle.parent is None

    url = f"{NEW}?parent={principle.pk}"
    assert client.get(url).status_code == 200
    assert client.post(url, {"title": "Plans", "order": "0"}).status_code == 302
    framework = Goal.objects.get(title="Plans")
    assert framework.level == GoalLevel.FRAMEWORK and framework.parent == principle

    url = f"{NEW}?parent={framework.pk}"
    page = client.get(url)
    assert page.status_code == 200 and 'name="indicator"' in page.content.decode()
    response = client.post(
        url,
        {
            "title": "Offers",
            "order": "0",
            "indicator": IndicatorType.OFFER_SHARE,
            "categories": ["eq", "ausbildung"],
            "category": "integrationskurs",
            "months": "",
            "weeks": "5",  # not a parameter of this indicator: ignored
            "target_value": "60",
            "target_date": "2027-12-31",
            "higher_is_better": "on",
        },
    )
    assert response.status_code == 302
    result = Goal.objects.get(title="Offers")
    assert result.level == GoalLevel.RESULT and result.parent == framework
    assert result.params == {"categories": ["ausbildung", "eq"], "months": 12}
    assert result.target_value == 60 and str(result.target_date) == "2027-12-31"
    assert client.get(f"{NEW}?parent={result.pk}").status_code == 404

    assert client.get(edit_url(result)).status_code == 200
    response = client.post(
        edit_url(result),
        {
            "title": "Offers for more",
            "order": "2",
            "indicator": IndicatorType.PLAN_SHARE,
            "months": "6",
            "category": "integrationskurs",
            "target_value": "70",
        },
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.title == "Offers for more" and result.indicator == IndicatorType.PLAN_SHARE
    assert result.params == {"months": 6} and not result.higher_is_better

    assert client.post(edit_url(principle), {"title": "Work", "order": "0"}).status_code == 302
    principle.refresh_from_db()
    assert principle.title == "Work"

    assert client.get(TREE).status_code == 200
    assert client.get(delete_url(principle)).status_code == 405
    assert client.post(delete_url(principle)).status_code == 302
    assert not Goal.objects.exists()


def test_invalid_posts_show_errors_and_write_nothing(client, world, tree):
    _principle, framework, result = tree
    login(client, world.coordinator)
    before = list(Goal.objects.values_list("pk", "title", "params", "target_value"))
    url = f"{NEW}?parent={framework.pk}"
    cases = [
        ({"indicator": IndicatorType.PLAN_SHARE, "months": "0"}, "months"),
        ({"indicator": IndicatorType.REFERRAL_DAYS, "category": "unknown"}, "category"),
        ({"indicator": IndicatorType.OFFER_SHARE}, "categories"),
        ({"indicator": IndicatorType.PLAN_SHARE, "target_value": "150"}, "target_value"),
        ({"indicator": ""}, "indicator"),
    ]
    for data, field in cases:
        for target in (url, edit_url(result)):
            response = client.post(target, {"title": "Changed", "order": "0", **data})
            assert response.status_code == 422, (data, target)
            form = response.context["form"]
            assert form.errors.get(field), (data, target, form.errors)
            assert f'id="id_{field}_error"' in response.content.decode()
    response = client.post(NEW, {"title": "", "order": "0"})
    assert response.status_code == 422 and response.context["form"].errors.get("title")
    assert list(Goal.objects.values_list("pk", "title", "params", "target_value")) == before


def test_team_lead_sees_but_cannot_edit(client, world, tree):
    principle, _framework, result = tree
    login(client, world.team_lead)
    assert client.get(TREE).status_code == 200
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"title": "X", "order": "0"}).status_code == 403
    assert client.get(edit_url(result)).status_code == 403
    assert client.post(edit_url(result), {"title": "X", "order": "0"}).status_code == 403
    assert client.post(delete_url(principle)).status_code == 403
    assert Goal.objects.count() == 3


@pytest.mark.parametrize("role", NO_VIEW)
def test_other_roles_get_403_everywhere(client, world, tree, role):
    principle, _framework, result = tree
    login(client, getattr(world, role))
    assert client.get(TREE).status_code == 403
    assert client.get(NEW).status_code == 403
    assert client.post(NEW, {"title": "X", "order": "0"}).status_code == 403
    assert client.get(edit_url(result)).status_code == 403
    assert client.post(edit_url(result), {"title": "X", "order": "0"}).status_code == 403
    assert client.post(delete_url(principle)).status_code == 403
    assert Goal.objects.count() == 3
