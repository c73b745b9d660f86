"""Benefit regime derivation (rules/10_benefit_regime.toml)."""

from .helpers import facts, on


def test_benefit_asylblg2_18m_before_and_transition20_after_law_change():
    """benefit.asylblg2.18m on 26.02.2024, benefit.asylblg2.transition20 from 27.02.2024."""
    f = facts(("gestattung", "2022-06-01", None), entry="2022-06-01")
    before = on(f, "2024-02-26")
    assert before.benefit_regime == "asylblg_2"
    after = on(f, "2024-02-27")
    assert after.benefit_regime == "asylblg_2"


def test_benefit_18m_no_longer_suffices_after_27_02_2024():
    """benefit.asylblg3 after the change: 18 months reached 01.03.2024, but 36 now apply."""
    f = facts(("gestattung", "2022-09-01", None), entry="2022-09-01")
    assert on(f, "2024-03-01").benefit_regime == "asylblg_3"


def test_benefit_transition20_boundary_entry_26_08_2022():
    """benefit.asylblg2.transition20: entry on 26.08.2022 reached 18 months on 26.02.2024."""
    kept = facts(("duldung", "2022-08-26", None), entry="2022-08-26")
    lost = facts(("duldung", "2022-08-27", None), entry="2022-08-27")
    assert on(kept, "2024-03-01").benefit_regime == "asylblg_2"
    assert on(lost, "2024-03-01").benefit_regime == "asylblg_3"


def test_benefit_asylblg2_36m_boundary_day():
    """benefit.asylblg2.36m: exactly 36 months after entry."""
    f = facts(("gestattung", "2023-03-15", None), entry="2023-03-15")
    assert on(f, "2026-03-14").benefit_regime == "asylblg_3"
    assert on(f, "2026-03-15").benefit_regime == "asylblg_2"


def test_benefit_asylblg2_18m_boundary_day_old_law():
    """benefit.asylblg2.18m (21.08.2019–26.02.2024): exactly 18 months after entry."""
    f = facts(("gestattung", "2020-01-10", None), entry="2020-01-10")
    assert on(f, "2021-07-09").benefit_regime == "asylblg_3"
    assert on(f, "2021-07-10").benefit_regime == "asylblg_2"


def test_benefit_asylblg2_15m_before_21_08_2019():
    """benefit.asylblg2.15m (01.03.2015–20.08.2019)."""
    f = facts(("gestattung", "2017-01-01", None), entry="2017-01-01", birth="1999-01-01")
    assert on(f, "2018-04-01").benefit_regime == "asylblg_2"
    assert on(f, "2018-03-31").benefit_regime == "asylblg_3"


def test_benefit_protection_switch_to_sgb2_after_month_of_recognition():
    """benefit.protection.sgb2: SGB II from the first day of the month after recognition."""
    f = facts(
        ("gestattung", "2024-06-01", "2025-03-09"),
        ("ae_25_2_gfk", "2025-03-10", None),
        entry="2024-06-01",
    )
    assert on(f, "2025-03-31").benefit_regime == "asylblg_3"
    assert on(f, "2025-04-01").benefit_regime == "sgb2"
    ahead = on(f, "2025-03-20").upcoming
    assert any(u.event == "benefit_sgb2" and u.date.isoformat() == "2025-04-01" for u in ahead)


def test_benefit_missing_entry_date_gives_no_regime():
    """benefit.asylblg2.36m needs entry_date: no guess."""
    f = facts(("gestattung", "2024-06-01", None), entry=None)
    assert on(f, "2025-01-01").benefit_regime is None


def test_benefit_upcoming_switch_to_asylblg2():
    """benefit.asylblg2.36m appears in upcoming on the 36-month date."""
    f = facts(("gestattung", "2024-05-01", None), entry="2024-05-01")
    ahead = on(f, "2025-01-01").upcoming
    assert any(u.event == "benefit_asylblg_2" and u.date.isoformat() == "2027-05-01" for u in ahead)


def test_benefit_protection_under_15_after_month_end_not_guessed():
    """benefit.protection.sgb2 needs age 15+; no AsylbLG fallback after recognition month."""
    f = facts(("ae_25_1", "2025-03-10", None), birth="2015-01-01", entry="2024-01-01")
    assert on(f, "2025-03-31").benefit_regime == "asylblg_3"
    assert on(f, "2025-04-01").benefit_regime is None


def test_benefit_no_status_on_date_gives_no_regime():
    """Every benefit rule needs the status on the date."""
    f = facts(("gestattung", "2024-01-10", "2024-06-30"))
    assert on(f, "2025-01-01").benefit_regime is None


def _regime_event(f, day):
    """The benefit-regime changes ahead of ``day``: (date, regime, rule id)."""
    return [
        (u.date.isoformat(), u.event.removeprefix("benefit_"), u.rule_id)
        for u in on(f, day).upcoming
        if u.event.startswith("benefit_")
    ]


def test_benefit_ae_24_rechtskreiswechsel_01_06_2022():
    """benefit.ae_24.asylblg until 31.05.2022, benefit.ae_24.sgb2 (§ 1 Abs. 1 Nr. 3 a
    AsylbLG, Rechtskreiswechsel) from 01.06.2022."""
    f = facts(("ae_24", "2022-04-01", None), entry="2022-03-10", nationality="UA")
    assert on(f, "2022-05-31").benefit_regime == "asylblg_3"
    assert on(f, "2022-06-01").benefit_regime == "sgb2"
    assert ("2022-06-01", "sgb2", "benefit.ae_24.sgb2") in _regime_event(f, "2022-05-15")


def test_benefit_title_after_duldung_from_the_month_after_the_grant():
    """benefit.title.sgb2 (§ 1 Abs. 3 AsylbLG, § 7 SGB II): a § 25b permit granted on
    15.03.2025 after a Duldung — AsylbLG until 31.03.2025, SGB II from 01.04.2025."""
    f = facts(
        ("duldung", "2017-01-01", "2025-03-14"),
        ("ae_25b", "2025-03-15", None),
        entry="2016-05-01",
    )
    assert on(f, "2025-03-31").benefit_regime == "asylblg_2"
    assert on(f, "2025-04-01").benefit_regime == "sgb2"
    assert ("2025-04-01", "sgb2", "benefit.title.sgb2") in _regime_event(f, "2025-03-20")


def test_benefit_ae_25_5_leaves_the_asylblg_after_18_months():
    """benefit.ae_25_5.18m (§ 1 Abs. 1 Nr. 3 c AsylbLG): § 25 Abs. 5 permit from 10.01.2024
    — AsylbLG on 09.07.2025, SGB II from 10.07.2025 (exactly 18 months)."""
    f = facts(
        ("duldung", "2020-01-01", "2024-01-09"), ("ae_25_5", "2024-01-10", None), entry="2019-06-01"
    )
    assert on(f, "2025-07-09").benefit_regime == "asylblg_2"
    assert on(f, "2025-07-10").benefit_regime == "sgb2"


def test_benefit_title_sgb12_at_pension_age():
    """benefit.title.sgb12_age (§ 41 SGB XII): settlement permit, aged 70."""
    f = facts(
        ("niederlassungserlaubnis", "2015-01-01", None), birth="1955-01-01", entry="2000-01-01"
    )
    assert on(f, "2026-11-21").benefit_regime == "sgb12"
