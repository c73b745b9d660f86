"""The page "Regelwerk" (eligibility:rules): the active rule set, readable for every
member, with category and date filters."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as conf
from django.urls import reverse
from django.utils import translation

from lotse.eligibility.codes import RULES_DIR
from lotse.eligibility.engine import _load
from lotse.eligibility.labels import CATEGORY_LABELS
from lotse.eligibility.ruleset import active_rule_set

URL = reverse("eligibility:rules")
# Valid 21.08.2019–26.02.2024; replaced by the 36-month rule.
OLD_RULE = "benefit.asylblg2.18m"
CURRENT_RULE = "bab.duldung.15m"


@pytest.fixture(autouse=True)
def fresh_engine_cache() -> Iterator[None]:
    _load.cache_clear()
    yield
    _load.cache_clear()


def _language(client, code: str) -> None:
    client.cookies[conf.LANGUAGE_COOKIE_NAME] = code


@pytest.fixture
def english(client):
    """The pages in English (the texts of this page are not translated yet)."""
    _language(client, "en")


def _html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _row(html: str, rule_id: str) -> str:
    match = re.search(
        rf'<tr class="kern-table__row" id="rule-{re.escape(rule_id)}">(.*?)</tr>', html, re.S
    )
    assert match, rule_id
    return match.group(1)


def test_anonymous_is_sent_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_case_manager_sees_every_category_and_the_rules(world, as_member):
    html = _html(as_member(world.case_manager).get(URL))
    rs = active_rule_set()
    assert html.count("<h1") == 1
    for category in ("benefit_regime", *rs.codes.categories):
        assert f'id="cat-{category}"' in html, category
    with translation.override("de"):
        assert str(CATEGORY_LABELS["integrationskurs"]) in html
    rule = rs.by_id[CURRENT_RULE]
    row = _row(html, CURRENT_RULE)
    assert rule.citation in row
    assert rule.valid_from.strftime("%d.%m.%Y") in row
    assert "status = @duldung" in row  # conditions as key = value
    assert rs.digest in html
    assert "lotse default rule set" in html
    assert 'scope="col"' in html and 'scope="row"' in html and "<caption" in html
    # Every rule of the set is listed.
    assert html.count('<tr class="kern-table__row" id="rule-') == len(rs.all_rules())


def test_old_rules_are_marked_and_the_link_is_in_the_navigation(world, as_member, english):
    html = _html(as_member(world.case_manager).get(URL))
    assert "no longer valid" in _row(html, OLD_RULE)
    assert "no longer valid" not in _row(html, CURRENT_RULE)
    assert "21.08.2019" in _row(html, OLD_RULE) and "26.02.2024" in _row(html, OLD_RULE)
    assert "open" in _row(html, CURRENT_RULE)
    assert f'href="{URL}" aria-current="page"' in html
    assert "Guidance, not a legal decision" in html
    assert "docs/eligibility.md" in html
    assert "the rule set packaged with lotse" in html
    assert "overlay.integrationskurs.stop_44_4_2026" in html
    assert "24.10.2015" in html  # a change date


@pytest.mark.parametrize("who", ["analyst", "coordinator", "partner_staff", "org_admin"])
def test_every_member_may_read_it(world, as_member, who):
    assert as_member(getattr(world, who)).get(URL).status_code == 200


def test_category_filter(world, as_member, english):
    html = _html(as_member(world.case_manager).get(URL, {"category": "bab"}))
    assert 'id="cat-bab"' in html
    assert 'id="cat-integrationskurs"' not in html and 'id="cat-benefit_regime"' not in html
    assert CURRENT_RULE in html and OLD_RULE not in html
    # The overlay concerns integration courses only.
    assert "overlay.integrationskurs.stop_44_4_2026" not in html
    html = _html(as_member(world.case_manager).get(URL, {"category": "benefit_regime"}))
    assert OLD_RULE in html and CURRENT_RULE not in html


def test_date_filter_shows_the_rules_valid_on_that_day(world, as_member, english):
    client = as_member(world.case_manager)
    after = _html(client.get(URL, {"on": "2025-01-01"}))
    assert OLD_RULE not in after  # valid_to 26.02.2024
    assert CURRENT_RULE in after
    assert "valid on 01.01.2025" in after
    before = _html(client.get(URL, {"on": "2020-06-01", "category": "benefit_regime"}))
    assert OLD_RULE in before
    assert "no longer valid" in _row(before, OLD_RULE)  # …marked as of today
    assert "benefit.asylblg2.15m" not in before  # ended 20.08.2019
    # The overlay applies from 2026 on only.
    assert "overlay.integrationskurs.stop_44_4_2026" not in _html(
        client.get(URL, {"on": "2026-02-08"})
    )
    assert "overlay.integrationskurs.stop_44_4_2026" in _html(client.get(URL, {"on": "2026-02-09"}))
    # The boundary day is inclusive.
    assert OLD_RULE in _html(client.get(URL, {"on": "2024-02-26", "category": "benefit_regime"}))
    assert OLD_RULE not in _html(client.get(URL, {"on": "2024-02-27"}))


def test_invalid_date_shows_an_error_at_the_field(world, as_member, english):
    response = as_member(world.case_manager).get(URL, {"on": "2024-02-30", "category": "bab"})
    html = _html(response)
    form = response.context["form"]
    assert list(form.errors) == ["on"]
    assert 'id="id_on_error"' in html or "kern-form-input--error" in html
    assert 'aria-describedby="id_on_error' in html
    # The valid filter still applies; the invalid one is ignored.
    assert 'id="cat-bab"' in html and 'id="cat-integrationskurs"' not in html


def test_unknown_category_is_a_field_error_not_a_500(world, as_member):
    response = as_member(world.case_manager).get(URL, {"category": "nope"})
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["category"]


def test_bounded_number_of_queries(world, as_member, django_assert_max_num_queries):
    client = as_member(world.case_manager)
    client.get(URL)  # warm the rule set cache
    with django_assert_max_num_queries(8):
        assert client.get(URL).status_code == 200
    with django_assert_max_num_queries(8):
        assert client.get(URL, {"on": "2020-01-01", "category": "bvb"}).status_code == 200


@pytest.fixture
def municipal(tmp_path: Path, settings) -> Path:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    meta = rules / "ruleset.toml"
    text = meta.read_text(encoding="utf-8")
    text = text.replace('name = "lotse default rule set"', 'name = "Regelwerk Lotsenstadt"')
    text = text.replace('reviewed_by = ""', 'reviewed_by = "Rechtsamt Lotsenstadt"')
    text = text.replace('reviewed_on = ""', 'reviewed_on = "2026-10-01"')
    meta.write_text(text, encoding="utf-8")
    # The rule's German explanation (replacing the packaged one, if any).
    bab = rules / "40_ausbildungsfoerderung.toml"
    text = bab.read_text(encoding="utf-8")
    start = text.index('id = "bab.duldung.15m"\n')
    end = text.index("[rule.when]", start)
    block = re.sub(
        r'explanation_de = """.*?"""\n|explanation_de = ".*?"\n', "", text[start:end], flags=re.S
    )
    block += 'explanation_de = "Geduldete erhalten BAB nach 15 Monaten."\n'
    bab.write_text(text[:start] + block + text[end:], encoding="utf-8")
    settings.LOTSE_ELIGIBILITY_RULES = str(rules)
    return rules


def test_a_municipality_rule_set_is_shown_with_its_review(world, as_member, municipal):
    client = as_member(world.case_manager)
    html = _html(client.get(URL))  # German by default
    assert "Regelwerk Lotsenstadt" in html and "Rechtsamt Lotsenstadt" in html
    assert "01.10.2026" in html
    assert str(municipal) in html
    assert active_rule_set().digest in html
    # German explanation where the rule has one.
    assert "Geduldete erhalten BAB nach 15 Monaten." in _row(html, CURRENT_RULE)
    _language(client, "en")
    html = _html(client.get(URL))
    assert "Geduldete erhalten BAB" not in html
    assert active_rule_set().by_id[CURRENT_RULE].explanation in html
