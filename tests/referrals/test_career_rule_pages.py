"""The coordinators' pages for the measure-career detection rules (issue #6): the list of
the six rules, editing one (parameters, name, explanation, on/off), bad input at the
field with nothing saved, reset to the defaults, who may use the pages."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from lotse.referrals import views_career_rules
from lotse.referrals.careers_rules import RULE_KINDS, default_rules
from lotse.referrals.careers_rules_services import career_rule_reset
from lotse.referrals.careers_services import career_rule_update, careers_rules_active
from lotse.referrals.models_careers import CareerRuleSetting

from ..conftest import login

pytestmark = pytest.mark.django_db

LIST = reverse("referrals:career_rules")


def _edit(code: str) -> str:
    return reverse("referrals:career_rule_edit", args=[code])


def _active(code: str):
    return next(r for r in careers_rules_active() if r.code == code)


def _form_data(client, code: str, **changes: Any) -> dict[str, Any]:
    """What the browser sends for the form as shown, with some values changed."""
    form = client.get(_edit(code)).context["form"]
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, list | tuple):
            data[name] = list(value)
        else:
            data[name] = "" if value is None else value
    for name, value in changes.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = value
    return data


def test_coordinator_sees_the_six_rules_with_their_parameters(world, client):
    login(client, world.coordinator)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("<h1") == 1
    for rule in default_rules():
        assert _edit(rule.code) in body
        assert str(rule.name) in body
    assert "More than 90 days between the end of one participation" in body
    assert "defaults" in body and "inactive" not in body


def test_coordinator_changes_the_gap_days(world, client):
    login(client, world.coordinator)
    page = client.get(_edit("gap"))
    assert page.status_code == 200
    body = page.content.decode()
    assert body.count("<h1") == 1
    assert '<legend class="kern-label">Offer categories considered' in body
    response = client.post(_edit("gap"), _form_data(client, "gap", days="60"))
    assert response.status_code == 302 and response["Location"] == LIST
    assert _active("gap").days == 60
    setting = CareerRuleSetting.objects.get(code="gap")
    assert setting.updated_by == world.coordinator.user
    assert setting.name == "" and setting.explanation == ""  # still the defaults
    listing = client.get(LIST)
    body = listing.content.decode()
    assert "More than 60 days between the end of one participation" in body
    assert "has been saved" in body
    assert str(world.coordinator.user) in body


def test_name_explanation_and_switching_off(world, client):
    login(client, world.coordinator)
    data = _form_data(
        client,
        "dropout_chain",
        name="Abbrüche",
        explanation="{n} Abbrüche in Folge.",
        enabled=None,
        n="3",
    )
    assert client.post(_edit("dropout_chain"), data).status_code == 302
    rule = _active("dropout_chain")
    assert (rule.name, rule.enabled, rule.n) == ("Abbrüche", False, 3)
    body = client.get(LIST).content.decode()
    assert "3 Abbrüche in Folge." in body and "inactive" in body
    # The form shows what was saved; blank name and explanation mean the defaults.
    form = client.get(_edit("dropout_chain")).context["form"]
    assert form["name"].value() == "Abbrüche" and form["enabled"].value() is False
    reset_texts = {**data, "name": "", "explanation": ""}
    assert client.post(_edit("dropout_chain"), reset_texts).status_code == 302
    assert _active("dropout_chain").name == "Chain of drop-outs"


@pytest.mark.parametrize(
    ("code", "field", "value"),
    [
        ("cycle", "min_count", "1"),
        ("gap", "days", "-1"),
        ("gap", "days", "sixty"),
        ("no_progression", "n", "0"),
        ("waiting", "days_by_category__bvb", "-5"),
    ],
)
def test_bad_input_error_at_the_field_nothing_saved(world, client, code, field, value):
    login(client, world.coordinator)
    response = client.post(_edit(code), _form_data(client, code, **{field: value}))
    assert response.status_code == 422
    form = response.context["form"]
    assert form.errors[field] and not form.non_field_errors()
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body  # linked to the field (aria-describedby)
    assert f'aria-describedby="id_{field}_error' in body
    assert not CareerRuleSetting.objects.exists()


def test_service_error_on_the_form_nothing_saved(world, client, monkeypatch):
    def refuse(**kwargs: Any) -> None:
        raise ValidationError({"params": ["days must be a whole number of at least 0"]})

    monkeypatch.setattr(views_career_rules, "career_rule_update", refuse)
    login(client, world.coordinator)
    response = client.post(_edit("gap"), _form_data(client, "gap"))
    assert response.status_code == 422
    assert "at least 0" in str(response.context["form"].non_field_errors())
    assert "Please check your input" in response.content.decode()
    assert not CareerRuleSetting.objects.exists()


def test_category_checkboxes_round_trip(world, client):
    login(client, world.coordinator)
    chosen = ["bvb", "eq", "sprachkurs"]
    data = _form_data(client, "cycle", categories=chosen, exit_levels=[])
    assert client.post(_edit("cycle"), data).status_code == 302
    rule = _active("cycle")
    assert rule.categories == frozenset(chosen) and rule.exit_levels == frozenset()
    assert CareerRuleSetting.objects.get(code="cycle").params["categories"] == chosen
    form = client.get(_edit("cycle")).context["form"]
    assert sorted(form["categories"].value()) == chosen
    assert form["exit_levels"].value() == []
    body = client.get(_edit("cycle")).content.decode()
    assert 'value="bvb" class="kern-form-check__checkbox" id="id_categories_' in body
    assert 'name="categories" value="bvb"' in body


def test_unknown_category_is_refused_at_the_field(world, client):
    login(client, world.coordinator)
    response = client.post(_edit("gap"), _form_data(client, "gap", categories=["nonsense"]))
    assert response.status_code == 422
    assert response.context["form"].errors["categories"]
    assert not CareerRuleSetting.objects.exists()


def test_waiting_limits_per_category(world, client):
    login(client, world.coordinator)
    form = client.get(_edit("waiting")).context["form"]
    assert form["days_by_category__integrationskurs"].value() == 56
    assert form["days_by_category__bvb"].value() is None
    data = _form_data(
        client,
        "waiting",
        default_days="100",
        days_by_category__integrationskurs="",
        days_by_category__bvb="30",
    )
    assert client.post(_edit("waiting"), data).status_code == 302
    rule = _active("waiting")
    assert rule.default_days == 100 and dict(rule.days_by_category) == {"bvb": 30}
    assert rule.limit("bvb") == 30 and rule.limit("integrationskurs") == 100


def test_repetition_flag_round_trip(world, client):
    login(client, world.coordinator)
    data = _form_data(client, "repetition", count_transfers="on")
    assert client.post(_edit("repetition"), data).status_code == 302
    assert _active("repetition").count_transfers is True
    assert client.get(_edit("repetition")).context["form"]["count_transfers"].value() is True


def test_every_rule_saves_unchanged(world, client):
    """The form as shown saves for every rule kind (the defaults round-trip)."""
    login(client, world.coordinator)
    for code in RULE_KINDS:
        response = client.post(_edit(code), _form_data(client, code))
        assert response.status_code == 302, (code, response.context["form"].errors)
    assert [r.to_dict() for r in careers_rules_active()] == [r.to_dict() for r in default_rules()]


def test_reset_restores_the_defaults(world, client):
    career_rule_update(actor=world.coordinator, code="gap", params={"days": 30}, enabled=False)
    login(client, world.coordinator)
    page = client.get(_edit("gap")).content.decode()
    assert 'value="reset"' in page
    response = client.post(_edit("gap"), {"action": "reset"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert not CareerRuleSetting.objects.exists()
    assert _active("gap") == next(r for r in default_rules() if r.code == "gap")
    assert "reset to its defaults" in client.get(LIST).content.decode()
    # Nothing to reset: no button, and a reset changes nothing.
    assert 'value="reset"' not in client.get(_edit("gap")).content.decode()
    assert client.post(_edit("gap"), {"action": "reset"}).status_code == 302


def test_reset_service_checks_permission_and_code(world):
    from django.core.exceptions import PermissionDenied

    career_rule_update(actor=world.coordinator, code="gap", params={"days": 30})
    with pytest.raises(PermissionDenied):
        career_rule_reset(actor=world.case_manager, code="gap")
    with pytest.raises(ValidationError):
        career_rule_reset(actor=world.coordinator, code="nope")
    assert CareerRuleSetting.objects.exists()
    assert career_rule_reset(actor=world.coordinator, code="gap") is True
    assert career_rule_reset(actor=world.coordinator, code="gap") is False


@pytest.mark.parametrize(
    "role", ["case_manager", "team_lead", "partner_staff", "analyst", "volunteer", "org_admin"]
)
def test_other_roles_get_403(world, client, role):
    login(client, world.by_role()[role])
    assert client.get(LIST).status_code == 403
    assert client.get(_edit("gap")).status_code == 403
    assert client.post(_edit("gap"), {"days": "1"}).status_code == 403
    assert client.post(_edit("gap"), {"action": "reset"}).status_code == 403
    assert not CareerRuleSetting.objects.exists()


def test_anonymous_is_sent_to_login(world, client):
    response = client.get(LIST)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_unknown_rule_404(world, client):
    login(client, world.coordinator)
    assert client.get(_edit("nope")).status_code == 404
    assert client.post(_edit("nope"), {"action": "reset"}).status_code == 404


def test_list_query_count(world, client, django_assert_max_num_queries):
    career_rule_update(actor=world.coordinator, code="gap", params={"days": 60})
    career_rule_update(actor=world.coordinator, code="cycle", params={"min_count": 4})
    login(client, world.coordinator)
    client.get(LIST)  # warm up (session, content types)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    assert response.status_code == 200


def test_german_labels_and_messages(world, client, settings):
    """Django's own messages for bad numbers come in German."""
    settings.LANGUAGE_CODE = "de"
    login(client, world.coordinator)
    response = client.post(_edit("cycle"), _form_data(client, "cycle", min_count="1"))
    assert response.status_code == 422
    assert "größer oder gleich 2" in str(response.context["form"].errors["min_count"])
