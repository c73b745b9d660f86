"""Integration course, BAB, BvB, § 41 SGB VIII (rules/30_*, 40_*, 50_*)."""

from .helpers import facts, on, result

# --- integrationskurs (§ 44 AufenthG) ---------------------------------------


def test_integrationskurs_entitlement_lapses_after_one_year():
    """integrationskurs.protection.entitled → integrationskurs.lapsed.admissible (§ 44 Abs. 2)."""
    f = facts(("ae_25_2_gfk", "2024-03-10", None))
    assert result(f, "2025-03-09", "integrationskurs") == "entitled"
    assert result(f, "2025-03-10", "integrationskurs") == "admissible"


def test_integrationskurs_renewal_does_not_restart_the_year():
    """integrationskurs.protection.entitled counts from the first grant of the same status."""
    f = facts(("ae_25_2_gfk", "2024-03-10", "2024-09-30"), ("ae_25_2_gfk", "2024-10-01", None))
    assert result(f, "2025-04-01", "integrationskurs") == "admissible"


def test_integrationskurs_overlay_stop_2026():
    """overlay.integrationskurs.stop_44_4_2026: legal result unchanged, available false."""
    f = facts(("gestattung", "2025-06-01", None))
    before = on(f, "2026-02-08").item("integrationskurs")
    assert before.result == "admissible"
    assert before.available is None
    assert "available" not in before.to_json()
    after = on(f, "2026-02-09").item("integrationskurs")
    assert after.result == "admissible"
    assert after.available is False
    assert after.to_json()["available"] is False
    assert "§ 44 Abs. 4" in after.to_json()["availability_note"]


def test_integrationskurs_overlay_does_not_touch_entitled():
    """overlay.integrationskurs.stop_44_4_2026 applies to admissible only."""
    f = facts(("ae_25_1", "2026-02-01", None))
    item = on(f, "2026-03-01").item("integrationskurs")
    assert item.result == "entitled"
    assert item.available is None


def test_integrationskurs_gestattung_before_and_after_31_12_2022():
    """integrationskurs.gestattung.admissible from 31.12.2022; earlier not covered."""
    f = facts(("gestattung", "2022-01-10", None), entry="2022-01-10")
    assert result(f, "2022-12-30", "integrationskurs") == "unknown"
    assert result(f, "2022-12-31", "integrationskurs") == "admissible"


def test_integrationskurs_gestattung_safe_country_excluded():
    """integrationskurs.gestattung.safe_country."""
    f = facts(("gestattung", "2025-06-01", None), nationality="RS")
    assert result(f, "2025-09-01", "integrationskurs") == "excluded"


def test_integrationskurs_duldung_variants():
    """integrationskurs.duldung_ermessen.admissible vs integrationskurs.other_duldung.excluded."""
    assert (
        result(facts(("duldung_ermessen", "2024-01-01", None)), "2025-01-01", "integrationskurs")
        == "admissible"
    )
    assert (
        result(facts(("duldung", "2024-01-01", None)), "2025-01-01", "integrationskurs")
        == "excluded"
    )


# --- bab (§ 60 Abs. 3 SGB III) -----------------------------------------------


def test_bab_gestattung_excluded():
    """bab.gestattung.excluded."""
    f = facts(("gestattung", "2022-01-10", None), entry="2022-01-10")
    assert result(f, "2025-01-01", "bab") == "excluded"


def test_bab_duldung_exactly_15_months_counting_prior_gestattung():
    """bab.duldung.15m: 15 months of uninterrupted gestattet/geduldet stay."""
    f = facts(("gestattung", "2024-01-10", "2024-09-30"), ("duldung", "2024-10-01", None))
    assert result(f, "2025-04-09", "bab") == "excluded"
    assert on(f, "2025-04-10").item("bab").rule_id == "bab.duldung.15m"


def test_bab_duldung_gap_restarts_the_count():
    """bab.duldung.15m: an interruption (gap) restarts the 15 months."""
    f = facts(("gestattung", "2024-01-10", "2024-09-30"), ("duldung", "2024-11-01", None))
    assert result(f, "2025-04-10", "bab") == "excluded"
    assert result(f, "2026-02-01", "bab") == "entitled"


def test_bab_protection_entitled():
    """bab.protection.entitled."""
    assert result(facts(("ae_25_1", "2025-01-01", None)), "2025-06-01", "bab") == "entitled"


# --- bvb (§ 52 Abs. 2 SGB III) ------------------------------------------------


def test_bvb_gestattung_exactly_15_months():
    """bvb.gestattung.15m."""
    f = facts(("gestattung", "2024-01-10", None), entry="2024-01-10")
    assert result(f, "2025-04-09", "bvb") == "excluded"
    assert result(f, "2025-04-10", "bvb") == "admissible"


def test_bvb_gestattung_entry_before_august_2019_three_months():
    """bvb.gestattung.entry_before_2019.3m."""
    f = facts(("gestattung", "2019-07-01", None), entry="2019-07-01", birth="2000-01-01")
    assert result(f, "2019-09-30", "bvb") == "excluded"
    assert on(f, "2019-10-01").item("bvb").rule_id == "bvb.gestattung.entry_before_2019.3m"


def test_bvb_duldung_exactly_9_months():
    """bvb.duldung.9m: removal suspended for nine months."""
    f = facts(("duldung", "2025-01-15", None), work_ban_60a6=False)
    assert result(f, "2025-10-14", "bvb") == "excluded"
    assert result(f, "2025-10-15", "bvb") == "admissible"


def test_bvb_duldung_work_ban_excluded():
    """bvb.duldung.ban_60a6."""
    f = facts(("duldung", "2023-01-15", None), work_ban_60a6=True)
    assert result(f, "2025-10-15", "bvb") == "excluded"


# --- sgb8_41 (§ 41 SGB VIII) ---------------------------------------------------


def test_sgb8_41_under_21_entitled_and_minor_excluded():
    """sgb8_41.under_21 and sgb8_41.minor."""
    f = facts(("duldung", "2022-01-01", None), birth="2005-06-01")
    assert result(f, "2023-05-31", "sgb8_41") == "excluded"
    assert result(f, "2023-06-01", "sgb8_41") == "entitled"


def test_sgb8_41_after_21_needs_the_fact_of_earlier_help():
    """sgb8_41.continuation: missing flags.sgb8_help_before_21 → unknown naming it."""
    f = facts(("duldung", "2022-01-01", None), birth="2003-06-01")
    item = on(f, "2024-06-01").item("sgb8_41")
    assert item.result == "unknown"
    assert item.missing == ("flags.sgb8_help_before_21",)
    assert item.to_json()["missing"] == ["flags.sgb8_help_before_21"]


def test_sgb8_41_continuation_until_27():
    """sgb8_41.continuation / sgb8_41.over_21_no_help / sgb8_41.over_27."""
    yes = facts(("duldung", "2022-01-01", None), birth="2003-06-01", sgb8_help_before_21=True)
    no = facts(("duldung", "2022-01-01", None), birth="2003-06-01", sgb8_help_before_21=False)
    assert result(yes, "2025-01-01", "sgb8_41") == "admissible"
    assert result(no, "2025-01-01", "sgb8_41") == "excluded"
    assert result(yes, "2030-06-01", "sgb8_41") == "excluded"


def test_integrationskurs_family_permit_entitled():
    """integrationskurs.familie.entitled (§ 44 Abs. 1 S. 1 Nr. 1 Buchst. b)."""
    f = facts(("ae_familie", "2025-05-01", None))
    assert result(f, "2025-06-01", "integrationskurs") == "entitled"


def test_upcoming_bab_becomes_entitled_after_15_months():
    """bab.duldung.15m appears in upcoming as bab_entitled on the 15-month day."""
    f = facts(("gestattung", "2024-01-10", "2024-09-30"), ("duldung", "2024-10-01", None))
    events = [(u.date.isoformat(), u.event) for u in on(f, "2024-12-01").upcoming]
    assert ("2025-04-10", "bab_entitled") in events


def test_upcoming_overlay_start_is_reported():
    """overlay.integrationskurs.stop_44_4_2026 shows as a dated change ahead."""
    f = facts(("gestattung", "2025-06-01", None))
    ahead = [u for u in on(f, "2025-09-01").upcoming if u.event == "integrationskurs_admissible"]
    assert ahead
    assert ahead[0].date.isoformat() == "2026-02-09"
    assert "Not available in practice" in ahead[0].explanation


def test_integrationskurs_25b_entitled_then_lapsed():
    """integrationskurs.ae_25b.entitled → integrationskurs.ae_25b.lapsed (from 31.12.2022)."""
    f = facts(("ae_25b", "2024-05-02", None))
    assert result(f, "2025-05-01", "integrationskurs") == "entitled"
    assert result(f, "2025-05-02", "integrationskurs") == "admissible"


def test_integrationskurs_24_admissible_with_overlay_in_2026():
    """integrationskurs.ae_24.admissible; overlay.integrationskurs.stop_44_4_2026."""
    f = facts(("ae_24", "2023-01-01", None), nationality="UA")
    assert on(f, "2025-01-01").item("integrationskurs").available is None
    assert on(f, "2026-03-01").item("integrationskurs").available is False


def test_integrationskurs_overlay_ends_with_the_budget_year_2026():
    """overlay.integrationskurs.stop_44_4_2026 (BAMF Trägerrundschreiben 02/26) is limited
    to the budget year: on 31.12.2026 not available, from 01.01.2027 the plain legal result,
    and the look-ahead reports the change."""
    f = facts(("gestattung", "2025-06-01", None))
    assert on(f, "2026-12-31").item("integrationskurs").available is False
    assert on(f, "2027-01-01").item("integrationskurs").available is None
    ahead = [(u.date.isoformat(), u.event) for u in on(f, "2026-11-21").upcoming]
    assert ("2027-01-01", "integrationskurs_admissible") in ahead
