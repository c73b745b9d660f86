"""The classification of needs per target group (issue #7): the grid round-trips (set,
change, clear), bad input writes nothing, who may see and edit it, and a bounded number
of queries whatever the number of need types."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from lotse.analytics.classification import classification_matrix, classification_set
from lotse.analytics.classification_forms import field_name
from lotse.analytics.models import NeedClassification, NeedLevel
from lotse.core.models import NeedType
from lotse.core.roles import Perm, role_has_perm
from lotse.people.models import TargetGroup

from ..conftest import login

URL = reverse("analytics:classification")
EDITORS = ["coordinator", "analyst"]
NO_VIEW = ["case_manager", "partner_staff", "volunteer", "org_admin", "outsider", "sysadmin"]


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def grid(db):
    """Two need types and two target groups of the seeded code lists."""
    need_types = list(NeedType.objects.filter(is_active=True).order_by("life_domain", "name")[:2])
    groups = list(TargetGroup.objects.filter(is_active=True).order_by("order", "code")[:2])
    assert len(need_types) == 2 and len(groups) == 2
    return need_types, groups


def stored() -> dict[tuple[int, int], str]:
    return {(c.need_type_id, c.target_group_id): c.level for c in NeedClassification.objects.all()}


def form_data(levels: dict[tuple[int, int], str]) -> dict[str, str]:
    """The POST of the whole grid: every active cell, "" unless given."""
    need_types, groups, current = classification_matrix()
    data = {
        field_name(n.pk, g.pk): current.get((n.pk, g.pk), "") for n in need_types for g in groups
    }
    data |= {field_name(n, g): level for (n, g), level in levels.items()}
    return data


# --- service and selector ---------------------------------------------------------------


def test_set_change_clear_round_trip(world, grid):
    (n1, n2), (g1, g2) = grid
    changed = classification_set(
        actor=world.coordinator,
        levels={
            (n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED,
            (n1.pk, g2.pk): NeedLevel.DESIRABLE,
            (n2.pk, g1.pk): "",
        },
    )
    assert changed == 2
    expected = {
        (n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED,
        (n1.pk, g2.pk): NeedLevel.DESIRABLE,
    }
    assert stored() == expected
    assert classification_matrix()[2] == expected

    # Change one, keep one (same level: no change), clear one, set a new one.
    changed = classification_set(
        actor=world.analyst,
        levels={
            (n1.pk, g1.pk): NeedLevel.LOCALLY_NECESSARY,
            (n1.pk, g2.pk): "",
            (n2.pk, g1.pk): NeedLevel.DESIRABLE,
            (n2.pk, g2.pk): "",
        },
    )
    assert changed == 3
    assert stored() == {
        (n1.pk, g1.pk): NeedLevel.LOCALLY_NECESSARY,
        (n2.pk, g1.pk): NeedLevel.DESIRABLE,
    }
    # The same grid again changes nothing; cells not given stay as they are.
    assert (
        classification_set(
            actor=world.analyst, levels={(n1.pk, g1.pk): NeedLevel.LOCALLY_NECESSARY}
        )
        == 0
    )
    assert (
        classification_set(actor=world.analyst, levels={(n1.pk, g1.pk): "", (n2.pk, g1.pk): ""})
        == 2
    )
    assert stored() == {}


def test_bad_level_writes_nothing(world, grid):
    (n1, n2), (g1, _g2) = grid
    NeedClassification.objects.create(need_type=n2, target_group=g1, level=NeedLevel.DESIRABLE)
    with pytest.raises(ValidationError) as info:
        classification_set(
            actor=world.coordinator,
            levels={
                (n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED,
                (n2.pk, g1.pk): "",
                (n2.pk, _g2.pk): "urgent",
            },
        )
    assert "“urgent” is not a classification" in info.value.messages[0]
    assert f"{n2.name} – {_g2.name}" in info.value.messages[0]
    assert stored() == {(n2.pk, g1.pk): NeedLevel.DESIRABLE}


def test_unknown_need_type_or_group_writes_nothing(world, grid):
    (n1, _n2), (g1, _g2) = grid
    for cell in [(n1.pk, 999_999), (999_999, g1.pk)]:
        with pytest.raises(ValidationError, match="no longer exists"):
            classification_set(
                actor=world.coordinator,
                levels={(n1.pk, g1.pk): NeedLevel.DESIRABLE, cell: NeedLevel.DESIRABLE},
            )
    assert stored() == {}


@pytest.mark.parametrize(
    "role", ["case_manager", "team_lead", "partner_staff", "volunteer", "org_admin", "sysadmin"]
)
def test_service_needs_classify_permission(world, grid, role):
    (n1, _n2), (g1, _g2) = grid
    with pytest.raises(PermissionDenied):
        classification_set(
            actor=world.by_role()[role], levels={(n1.pk, g1.pk): NeedLevel.DESIRABLE}
        )
    assert stored() == {}


def test_matrix_only_active_in_order(world, grid):
    (n1, n2), (g1, g2) = grid
    NeedClassification.objects.create(need_type=n1, target_group=g1, level=NeedLevel.DESIRABLE)
    NeedClassification.objects.create(need_type=n2, target_group=g2, level=NeedLevel.DESIRABLE)
    NeedType.objects.filter(pk=n2.pk).update(is_active=False)
    TargetGroup.objects.filter(pk=g1.pk).update(is_active=False)
    need_types, groups, levels = classification_matrix()
    assert n2 not in need_types and n1 in need_types
    assert g1 not in groups and g2 in groups
    assert [(n.life_domain, n.name) for n in need_types] == sorted(
        (n.life_domain, n.name) for n in need_types
    )
    assert [g.order for g in groups] == sorted(g.order for g in groups)
    assert levels == {}


def test_queries_bounded(world, grid, django_assert_max_num_queries):
    with django_assert_max_num_queries(3):
        classification_matrix()
    need_types, groups, _levels = classification_matrix()
    # Service: the same number of queries for a small and a large grid.
    small = {(need_types[0].pk, groups[0].pk): NeedLevel.DESIRABLE}
    with CaptureQueriesContext(connection) as few:
        classification_set(actor=world.coordinator, levels=small)
    NeedClassification.objects.all().delete()
    every = {(n.pk, g.pk): NeedLevel.DESIRABLE for n in need_types for g in groups}
    assert len(every) > 50
    with CaptureQueriesContext(connection) as many:
        assert classification_set(actor=world.coordinator, levels=every) == len(every)
    assert len(many) <= len(few) + 2  # a bulk statement may be split into batches
    cleared = dict.fromkeys(every, "")
    with CaptureQueriesContext(connection) as deleting:
        assert classification_set(actor=world.coordinator, levels=cleared) == len(every)
    assert len(deleting) <= len(few) + 2
    assert stored() == {}


# --- the page ---------------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_editor_sees_grid_and_saves(client, world, grid, role):
    (n1, n2), (g1, g2) = grid
    login(client, world.by_role()[role])
    page = client.get(URL)
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1 and "Classification of needs" in html
    assert reverse("analytics:gaps") in html
    assert 'role="region"' in html and 'aria-labelledby="classification-caption"' in html
    assert "Save classification" in html
    need_types, groups, _levels = classification_matrix()
    assert html.count("<select") == len(need_types) * len(groups)
    assert html.count('<label class="lotse-sr-only" for="id_level_') == html.count("<select")
    assert f"{n1.name} – {g1.name}</label>" in html
    assert 'class="kern-form-input__select"' in html

    data = form_data({(n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED, (n2.pk, g2.pk): "desirable"})
    response = client.post(URL, data, follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "2 classifications changed." in response.content.decode()
    assert stored() == {
        (n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED,
        (n2.pk, g2.pk): NeedLevel.DESIRABLE,
    }
    # The page shows the stored levels selected.
    html = client.get(URL).content.decode()
    assert html.count('<option value="legally_required" selected>') == 1
    assert html.count('<option value="desirable" selected>') == 1

    # Change one, clear the other.
    data = form_data({(n1.pk, g1.pk): NeedLevel.LOCALLY_NECESSARY, (n2.pk, g2.pk): ""})
    response = client.post(URL, data, follow=True)
    assert "2 classifications changed." in response.content.decode()
    assert stored() == {(n1.pk, g1.pk): NeedLevel.LOCALLY_NECESSARY}

    response = client.post(URL, form_data({}), follow=True)
    assert "0 classifications changed." in response.content.decode()


def test_bad_post_is_422_and_writes_nothing(client, world, grid):
    (n1, n2), (g1, _g2) = grid
    login(client, world.coordinator)
    data = form_data({(n1.pk, g1.pk): NeedLevel.DESIRABLE, (n2.pk, g1.pk): "urgent"})
    response = client.post(URL, data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'role="alert"' in html
    assert f"{n2.name} – {g1.name}:" in html
    assert stored() == {}


def test_bad_post_message_in_german(client, world, grid, settings):
    (n1, _n2), (g1, _g2) = grid
    settings.LANGUAGE_CODE = "de"
    login(client, world.coordinator)
    response = client.post(URL, form_data({(n1.pk, g1.pk): "urgent"}), HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 422
    html = response.content.decode()
    assert "Bitte eine gültige Auswahl treffen. urgent ist keine gültige Auswahl." in html


def test_readonly_without_classify(client, world, grid, monkeypatch):
    """A role that may see the analytics but not classify gets the table without form."""
    (n1, _n2), (g1, _g2) = grid
    NeedClassification.objects.create(
        need_type=n1, target_group=g1, level=NeedLevel.LEGALLY_REQUIRED
    )
    from lotse.core import roles

    perms = dict(roles.ROLE_PERMISSIONS)
    perms["coordinator"] = perms["coordinator"] - {Perm.GAPS_CLASSIFY}
    monkeypatch.setattr(roles, "ROLE_PERMISSIONS", perms)
    login(client, world.coordinator)
    response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<select" not in html and '<form method="post" action="' + URL not in html
    assert "legally required" in html and "not classified" in html
    assert client.post(URL, form_data({(n1.pk, g1.pk): ""})).status_code == 403
    assert stored() == {(n1.pk, g1.pk): NeedLevel.LEGALLY_REQUIRED}


@pytest.mark.parametrize("role", NO_VIEW)
def test_roles_without_view_get_403(client, world, grid, role):
    (n1, _n2), (g1, _g2) = grid
    login(client, world.by_role()[role])
    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data({(n1.pk, g1.pk): "desirable"})).status_code == 403
    assert stored() == {}


def test_team_lead_as_roles_say(client, world, grid):
    (n1, _n2), (g1, _g2) = grid
    login(client, world.team_lead)
    can_view = role_has_perm("team_lead", Perm.ANALYTICS_VIEW)
    can_edit = role_has_perm("team_lead", Perm.GAPS_CLASSIFY)
    assert client.get(URL).status_code == (200 if can_view else 403)
    response = client.post(URL, form_data({(n1.pk, g1.pk): "desirable"}))
    assert response.status_code == (302 if can_view and can_edit else 403)
    assert bool(stored()) == (can_view and can_edit)


def test_page_queries_independent_of_size(client, world, grid):
    login(client, world.analyst)
    client.get(URL)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as before:
        assert client.get(URL).status_code == 200
    NeedType.objects.bulk_create(
        NeedType(code=f"extra_{i}", name=f"Extra {i}", life_domain="work") for i in range(30)
    )
    with CaptureQueriesContext(connection) as after:
        assert client.get(URL).status_code == 200
    assert len(after) == len(before)
    assert len(after) <= 12
