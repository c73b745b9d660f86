"""Facts validation, result shape (DESIGN §6), rule set loading and the CLI."""

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from lotse.eligibility import FactsError, evaluate, load_rule_set, parse_facts
from lotse.eligibility.engine import compile_rule_set

from .helpers import facts, on

DESIGN_FACTS = {
    "birth_date": "2002-04-17",
    "entry_date": "2016-01-10",
    "nationality": "AF",
    "status_history": [
        {"status": "gestattung", "from": "2016-02-01", "to": "2018-05-31"},
        {"status": "duldung", "from": "2018-06-01", "to": None},
    ],
    "benefits_history": [{"regime": "asylblg_3", "from": "2016-02-01", "to": None}],
    "flags": {"identity_clarified": True, "in_training": False},
}


def _errors(data):
    with pytest.raises(FactsError) as exc:
        parse_facts(data)
    return exc.value.errors


def test_bad_date_names_the_field():
    assert "birth_date" in _errors({**DESIGN_FACTS, "birth_date": "2002-13-01"})


def test_unknown_status_code_names_the_field():
    data = {**DESIGN_FACTS, "status_history": [{"status": "visum", "from": "2020-01-01"}]}
    assert "status_history[0].status" in _errors(data)


def test_unknown_regime_names_the_field():
    data = {**DESIGN_FACTS, "benefits_history": [{"regime": "bafoeg", "from": "2020-01-01"}]}
    assert "benefits_history[0].regime" in _errors(data)


def test_period_ending_before_it_starts():
    data = {
        **DESIGN_FACTS,
        "status_history": [{"status": "duldung", "from": "2020-05-01", "to": "2020-04-30"}],
    }
    assert "status_history[0].to" in _errors(data)


def test_birth_after_entry():
    assert "entry_date" in _errors({**DESIGN_FACTS, "birth_date": "2017-01-01"})


def test_overlapping_periods_and_bad_flag_type():
    data = {
        **DESIGN_FACTS,
        "status_history": [
            {"status": "gestattung", "from": "2016-02-01", "to": None},
            {"status": "duldung", "from": "2018-06-01", "to": None},
        ],
        "flags": {"reception_centre": "yes"},
    }
    errors = _errors(data)
    assert "status_history" in errors
    assert "flags.reception_centre" in errors


def test_result_json_shape_matches_design():
    """DESIGN §6 result: on, status, benefit_regime, access[], upcoming[]."""
    out = on(parse_facts(DESIGN_FACTS), "2026-11-21").to_json()
    assert list(out) == ["on", "status", "benefit_regime", "access", "upcoming"]
    assert out["on"] == "2026-11-21"
    assert out["status"] == "duldung"
    assert out["benefit_regime"] == "asylblg_2"
    for item in out["access"]:
        assert {"category", "result", "rule_id", "citation", "explanation"} <= set(item)
    assert {"date": "2029-04-17", "event": "age_27"} in [
        {"date": u["date"], "event": u["event"]} for u in out["upcoming"]
    ]
    assert all(set(u) == {"date", "event", "explanation"} for u in out["upcoming"])


def test_upcoming_birthdays_and_status_end():
    f = facts(("duldung", "2025-01-01", "2026-06-30"), birth="2008-02-01")
    events = {u.event: u.date.isoformat() for u in on(f, "2025-06-01").upcoming}
    assert events["age_18"] == "2026-02-01"
    assert events["age_21"] == "2029-02-01"
    assert events["age_27"] == "2035-02-01"
    assert events["status_end"] == "2026-06-30"


def test_rule_set_compiled_once_and_complete():
    rs = load_rule_set()
    assert rs is load_rule_set()
    for rules in rs.rules.values():
        for rule in rules:
            assert rule.citation and rule.source and rule.explanation and rule.valid_from


def test_unknown_condition_in_rule_file_is_rejected(tmp_path: Path):
    (tmp_path / "x.toml").write_text(
        '[[rule]]\nid="x"\ncategory="bab"\nresult="entitled"\ncitation="c"\n'
        'explanation="e"\nsource="s"\nvalid_from="2020-01-01"\n[rule.when]\nshoe_size=42\n'
    )
    with pytest.raises(ValueError, match="shoe_size"):
        compile_rule_set(tmp_path)


def test_cli_prints_result_json(tmp_path: Path):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(DESIGN_FACTS))
    out = io.StringIO()
    call_command("eligibility", "--facts", str(path), "--on", "2026-11-21", stdout=out)
    data = json.loads(out.getvalue())
    assert data["on"] == "2026-11-21"
    assert data["benefit_regime"] == "asylblg_2"
    assert '\n  "on"' in out.getvalue()  # indent 2


def test_cli_bad_facts_exit_2_naming_field(tmp_path: Path):
    path = tmp_path / "facts.json"
    path.write_text(json.dumps({**DESIGN_FACTS, "birth_date": "17.04.2002"}))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("eligibility", "--facts", str(path), stderr=err)
    assert exc.value.code == 2
    assert "birth_date" in err.getvalue()


def test_cli_malformed_json_and_bad_date_exit_2(tmp_path: Path):
    path = tmp_path / "facts.json"
    path.write_text("{not json")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exc:
        call_command("eligibility", "--facts", str(path), stderr=err)
    assert exc.value.code == 2
    assert "malformed JSON" in err.getvalue()
    path.write_text(json.dumps(DESIGN_FACTS))
    with pytest.raises(SystemExit) as exc:
        call_command("eligibility", "--facts", str(path), "--on", "2026-02-30", stderr=err)
    assert exc.value.code == 2
    assert "--on" in err.getvalue()


def test_facts_must_be_an_object():
    assert _errors([1, 2]) == {"facts": "must be a JSON object"}


def test_evaluate_without_upcoming():
    result = evaluate(parse_facts(DESIGN_FACTS), dt.date(2026, 11, 21), with_upcoming=False)
    assert result.upcoming == ()
    assert result.benefit_regime == "asylblg_2"


def test_engine_is_pure_python():
    """DESIGN §4: the engine imports neither Django nor the rest of the project."""
    import subprocess
    import sys

    code = (
        "import sys, datetime as dt; from lotse.eligibility import evaluate, parse_facts; "
        "evaluate(parse_facts({'birth_date': '2000-01-01'}), dt.date(2026, 1, 1)); "
        "bad = sorted(m for m in sys.modules if m.startswith(('django', 'lotse.')) "
        "and not m.startswith('lotse.eligibility')); print(bad); sys.exit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
