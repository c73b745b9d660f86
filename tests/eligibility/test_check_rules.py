"""`lotse eligibility --check-rules DIR`, and a municipality's rule set
(LOTSE_ELIGIBILITY_RULES) applying on the CLI and in the API."""

from __future__ import annotations

import datetime as dt
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from lotse.api.services import token_create
from lotse.eligibility.codes import RULES_DIR
from lotse.eligibility.engine import _load, compile_rule_set
from lotse.eligibility.ruleset import active_rule_set

from ..factories import MembershipFactory
from .test_model_and_cli import DESIGN_FACTS

BAB_FILE = "40_ausbildungsfoerderung.toml"
BAB_RULE = 'id = "bab.duldung.15m"\ncategory = "bab"\nresult = "entitled"\n'


@pytest.fixture(autouse=True)
def fresh_engine_cache() -> Iterator[None]:
    _load.cache_clear()
    yield
    _load.cache_clear()


@pytest.fixture
def rules(tmp_path: Path) -> Path:
    """A copy of the packaged rule directory."""
    target = tmp_path / "rules"
    shutil.copytree(RULES_DIR, target)
    return target


def _check(directory: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("eligibility", "--check-rules", str(directory), stdout=out, stderr=err)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unchanged_copy_passes_with_a_summary(rules: Path):
    code, out, err = _check(rules)
    assert code == 0 and err == ""
    rs = compile_rule_set(rules)
    assert f"sha256 {rs.digest}" in out
    assert f"{len(rs.all_rules())} rules" in out
    for category, category_rules in rs.rules.items():
        assert any(
            line.split() == [category, str(len(category_rules))] for line in out.splitlines()
        ), category
    assert "overlay.integrationskurs.stop_44_4_2026" in out
    assert "2024-02-27" in out  # a change date
    assert "lotse default rule set" in out


def test_the_packaged_set_passes():
    code, out, _err = _check(RULES_DIR)
    assert code == 0
    assert active_rule_set().digest in out


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('status = ["@duldung"]\n', 'status = ["@duldung"]\nshoe_size = 42\n', "shoe_size"),
        ('status = ["@duldung"]\n', 'status = ["visum"]\n', "visum"),
        ('category = "bab"\n', 'category = "bab\n', ""),  # bad TOML: unterminated string
        ('result = "entitled"\n', 'result = "perhaps"\n', "perhaps"),
    ],
    ids=["unknown-condition", "unknown-status", "bad-toml", "unknown-result"],
)
def test_broken_file_exits_2_naming_file_and_rule(rules: Path, old: str, new: str, message: str):
    _replace(rules / BAB_FILE, old, new)
    code, out, err = _check(rules)
    assert code == 2, out
    assert out == ""
    assert BAB_FILE in err
    assert message in err
    if message:  # the rule is named (a TOML error names the line instead)
        assert "bab." in err
    else:
        assert "line" in err


def test_duplicate_id_exits_2_naming_the_file(rules: Path):
    other = rules / "45_asa_eq.toml"
    text = other.read_text(encoding="utf-8")
    first = text.index('id = "') + len('id = "')
    end = text.index('"', first)
    other.write_text(text[:first] + "bab.duldung.15m" + text[end:], encoding="utf-8")
    code, _out, err = _check(rules)
    assert code == 2
    assert "45_asa_eq.toml" in err and "duplicate rule id 'bab.duldung.15m'" in err


def test_not_a_directory_exits_2(tmp_path: Path):
    code, _out, err = _check(tmp_path / "missing")
    assert code == 2 and "not a directory" in err


def test_facts_are_required_without_check_rules():
    with pytest.raises(CommandError, match="--facts"):
        call_command("eligibility")


# --- a municipality's rule set applies ----------------------------------------------


def _exclude_bab(rules: Path) -> None:
    """One rule's result changed: BAB for Geduldete after 15 months becomes "excluded"."""
    _replace(rules / BAB_FILE, BAB_RULE, BAB_RULE.replace('"entitled"', '"excluded"'))


@pytest.fixture
def municipal(rules: Path, settings) -> Path:
    """The modified copy, configured as the active rule set."""
    _exclude_bab(rules)
    settings.LOTSE_ELIGIBILITY_RULES = str(rules)
    return rules


def _bab(result: dict) -> str:
    return next(i["result"] for i in result["access"] if i["category"] == "bab")


def _cli(facts_path: Path) -> dict:
    out = io.StringIO()
    call_command("eligibility", "--facts", str(facts_path), "--on", "2026-11-21", stdout=out)
    return json.loads(out.getvalue())


def test_cli_and_api_follow_the_configured_rule_set(rules: Path, tmp_path: Path, settings, db):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(DESIGN_FACTS), encoding="utf-8")
    membership = MembershipFactory(role="analyst")
    _token, plain = token_create(membership=membership, name="test")

    def api() -> dict:
        response = Client().post(
            "/api/v1/eligibility?on=2026-11-21",
            data=json.dumps(DESIGN_FACTS),
            content_type="application/json",
            headers={"Authorization": f"Bearer {plain}"},
        )
        assert response.status_code == 200, response.content
        return response.json()

    # The packaged set first…
    assert _bab(_cli(path)) == "entitled"
    assert _bab(api()) == "entitled"
    # …then the municipality's.
    _exclude_bab(rules)
    settings.LOTSE_ELIGIBILITY_RULES = str(rules)
    assert active_rule_set().directory == rules.resolve()
    assert _bab(_cli(path)) == "excluded"
    assert _bab(api()) == "excluded"
    item = next(i for i in api()["access"] if i["category"] == "bab")
    assert item["rule_id"] == "bab.duldung.15m"


def test_cli_uses_the_configured_codes(municipal: Path, tmp_path: Path):
    """A status code the municipality added is accepted on the CLI."""
    _replace(
        municipal / "codes.toml",
        "[statuses]\n",
        '[statuses]\nlandesaufnahme = "Landesaufnahmeprogramm (test)"\n',
    )
    facts = dict(
        DESIGN_FACTS,
        status_history=[{"status": "landesaufnahme", "from": "2020-01-01", "to": None}],
    )
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(facts), encoding="utf-8")
    assert _cli(path)["status"] == "landesaufnahme"
    assert dt.date.fromisoformat(_cli(path)["on"]) == dt.date(2026, 11, 21)


def test_cli_reports_a_broken_configured_set(municipal: Path, tmp_path: Path):
    _replace(municipal / BAB_FILE, 'category = "bab"\n', 'category = "nonsense"\n')
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(DESIGN_FACTS), encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("eligibility", "--facts", str(path), stderr=err)
    assert exc.value.code == 2
    assert BAB_FILE in err.getvalue() and "nonsense" in err.getvalue()
