"""Berufsausbildung, Berufssprachkurs, AsA flex, EQ, §§ 60c/60d AufenthG.

Rule files: rules/25_berufsausbildung.toml, rules/35_berufssprachkurs.toml,
rules/45_asa_eq.toml, rules/60_duldung_60c_60d.toml. Expected values follow the
written rules (first valid rule whose conditions all hold wins; a rule that cannot be
decided gives ``unknown`` naming the missing facts). "N months after D" is the same
calendar day N months later (clamped to the month's end), holding from that day on.
"""

from __future__ import annotations

import pytest

from lotse.eligibility.model import AccessItem

from .helpers import facts, on


def check(
    f, day: str, category: str, expected: str, rule_id: str, missing: tuple[str, ...] = ()
) -> AccessItem:
    """Assert result, rule id and missing facts of one category on one day."""
    item = on(f, day).item(category)
    assert (item.result, item.rule_id, item.missing) == (expected, rule_id, missing), day
    return item


# =====================================================================================
# berufssprachkurs (§ 45a AufenthG, DeuFöV) — rules/35_berufssprachkurs.toml
# =====================================================================================


def test_bsk_gestattung_later_entry_prospect_until_30_12_2022_then_admissible():
    """berufssprachkurs.gestattung.before_2022.prospect (§ 45a Abs. 2 S. 3 AufenthG, version
    until 30.12.2022) → berufssprachkurs.admissible (§ 45a Abs. 2 AufenthG; § 4 Abs. 1
    DeuFöV) from 31.12.2022 (Chancen-Aufenthaltsrecht)."""
    f = facts(
        ("gestattung", "2021-03-01", None),
        entry="2021-03-01",
        labour_market_proximity=True,
        german_level="A2",
    )
    check(
        f,
        "2022-12-30",
        "berufssprachkurs",
        "unknown",
        "berufssprachkurs.gestattung.before_2022.prospect",
    )
    check(f, "2022-12-31", "berufssprachkurs", "admissible", "berufssprachkurs.admissible")


def test_bsk_gestattung_entry_before_august_2019_old_law_then_german_needed():
    """berufssprachkurs.gestattung.before_2022.entry_2019 (§ 45a Abs. 2 S. 3 AufenthG, version
    01.08.2019–30.12.2022) admits without a language check; from 31.12.2022 A1 is below the
    A2 start: berufssprachkurs.german_below_a2 (§ 45a AufenthG; §§ 12, 13 DeuFöV)."""
    f = facts(
        ("gestattung", "2019-07-15", None),
        entry="2019-07-15",
        labour_market_proximity=True,
        german_level="A1",
    )
    check(
        f,
        "2022-12-30",
        "berufssprachkurs",
        "admissible",
        "berufssprachkurs.gestattung.before_2022.entry_2019",
    )
    check(f, "2022-12-31", "berufssprachkurs", "excluded", "berufssprachkurs.german_below_a2")


def test_bsk_gestattung_entry_2019_missing_proximity_is_unknown():
    """berufssprachkurs.gestattung.before_2022.entry_2019 (§ 45a Abs. 2 S. 3 AufenthG a.F.):
    without flags.labour_market_proximity the rule cannot be decided."""
    f = facts(("gestattung", "2019-07-15", None), entry="2019-07-15")
    check(
        f,
        "2022-12-30",
        "berufssprachkurs",
        "unknown",
        "berufssprachkurs.gestattung.before_2022.entry_2019",
        ("flags.labour_market_proximity",),
    )


@pytest.mark.parametrize("day", ["2022-12-30", "2022-12-31"])
def test_bsk_gestattung_safe_country_before_and_after_law_change(day):
    """berufssprachkurs.gestattung.safe_country (§ 45a Abs. 2 S. 4 AufenthG) under both
    versions of the law."""
    f = facts(
        ("gestattung", "2021-03-01", None),
        entry="2021-03-01",
        nationality="AL",
        labour_market_proximity=True,
        german_level="B1",
    )
    check(f, day, "berufssprachkurs", "excluded", "berufssprachkurs.gestattung.safe_country")


def test_bsk_gestattung_missing_german_level_is_unknown():
    """berufssprachkurs.german_below_a2 (§ 45a AufenthG; §§ 12, 13 DeuFöV): a Gestattete
    close to the labour market needs flags.german_level."""
    f = facts(("gestattung", "2024-01-10", None), labour_market_proximity=True)
    check(
        f,
        "2025-01-10",
        "berufssprachkurs",
        "unknown",
        "berufssprachkurs.german_below_a2",
        ("flags.german_level",),
    )


def test_bsk_duldung_exactly_6_months():
    """berufssprachkurs.duldung.waiting_6m (§ 45a Abs. 2 S. 5 AufenthG; § 4 Abs. 1 DeuFöV)
    until the day before six months of Duldung; on that day berufssprachkurs.admissible.
    No language threshold for Geduldete (A1/A2 special modules)."""
    f = facts(("duldung", "2025-01-15", None), labour_market_proximity=True, german_level="none")
    check(f, "2025-07-14", "berufssprachkurs", "excluded", "berufssprachkurs.duldung.waiting_6m")
    check(f, "2025-07-15", "berufssprachkurs", "admissible", "berufssprachkurs.admissible")


def test_bsk_duldung_6_months_counted_over_the_whole_duldung_run():
    """berufssprachkurs.duldung.waiting_6m (§ 45a Abs. 2 S. 5 AufenthG): the six months run
    from the start of the uninterrupted Duldung run (here a discretionary Duldung first),
    not from the current § 60a Abs. 2 S. 1 period; a preceding Gestattung does not count."""
    f = facts(
        ("gestattung", "2024-01-10", "2024-12-31"),
        ("duldung_ermessen", "2025-01-01", "2025-03-31"),
        ("duldung", "2025-04-01", None),
        labour_market_proximity=True,
    )
    check(f, "2025-06-30", "berufssprachkurs", "excluded", "berufssprachkurs.duldung.waiting_6m")
    check(f, "2025-07-01", "berufssprachkurs", "admissible", "berufssprachkurs.admissible")


def test_bsk_duldung_ermessen_has_no_waiting_time():
    """berufssprachkurs.admissible (§ 45a Abs. 2 S. 5 AufenthG): a Duldung under § 60a Abs. 2
    S. 3 opens access without waiting time; waiting_6m is limited to status duldung."""
    f = facts(("duldung_ermessen", "2025-06-01", None), labour_market_proximity=True)
    check(f, "2025-06-02", "berufssprachkurs", "admissible", "berufssprachkurs.admissible")


def test_bsk_duldung_old_and_new_admissible_rule():
    """berufssprachkurs.admissible_before_2022 (BGBl. 2019 I S. 1029) until 30.12.2022,
    berufssprachkurs.admissible (§ 45a Abs. 2 AufenthG n.F.) from 31.12.2022."""
    f = facts(("duldung", "2021-01-01", None), entry="2020-06-01", labour_market_proximity=True)
    check(
        f, "2022-12-30", "berufssprachkurs", "admissible", "berufssprachkurs.admissible_before_2022"
    )
    check(f, "2022-12-31", "berufssprachkurs", "admissible", "berufssprachkurs.admissible")


def test_bsk_missing_labour_market_proximity_is_unknown():
    """berufssprachkurs.no_proximity (§ 4 Abs. 1 DeuFöV): unknown without
    flags.labour_market_proximity; excluded when it is false."""
    base = {"entry": "2022-01-01"}
    unknown = facts(("duldung", "2023-01-01", None), **base)
    check(
        unknown,
        "2025-01-01",
        "berufssprachkurs",
        "unknown",
        "berufssprachkurs.no_proximity",
        ("flags.labour_market_proximity",),
    )
    no = facts(("duldung", "2023-01-01", None), labour_market_proximity=False, **base)
    check(no, "2025-01-01", "berufssprachkurs", "excluded", "berufssprachkurs.no_proximity")


@pytest.mark.parametrize(
    ("status", "rule_id"),
    [
        ("ankunftsnachweis", "berufssprachkurs.ankunftsnachweis"),
        ("duldung_ungeklaerte_identitaet", "berufssprachkurs.duldung_60b"),
        ("ausreisepflichtig", "berufssprachkurs.ausreisepflichtig"),
    ],
)
def test_bsk_statuses_without_access(status, rule_id):
    """berufssprachkurs.ankunftsnachweis / .duldung_60b / .ausreisepflichtig (§ 45a Abs. 2
    AufenthG; § 60b AufenthG): excluded even when close to the labour market."""
    f = facts((status, "2024-01-10", None), labour_market_proximity=True, german_level="B1")
    check(f, "2025-01-10", "berufssprachkurs", "excluded", rule_id)


# =====================================================================================
# berufsausbildung (betriebliche Ausbildung) — rules/25_berufsausbildung.toml
# =====================================================================================


def test_ba_reception_centre_waiting_9_months_then_6_months_from_27_02_2024():
    """berufsausbildung.gestattung.reception_centre.waiting_9m (§ 61 Abs. 1 AsylG, version
    21.08.2019–26.02.2024) on 26.02.2024; from 27.02.2024 the six months of
    berufsausbildung.gestattung.reception_centre.waiting_6m have passed →
    berufsausbildung.gestattung.reception_centre.permit (§ 61 Abs. 1 S. 2 AsylG)."""
    f = facts(
        ("gestattung", "2023-07-01", None),
        entry="2023-07-01",
        reception_centre=True,
        asylum_application_date="2023-07-01",
        rejected_manifestly_unfounded=False,
    )
    check(
        f,
        "2024-02-26",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.gestattung.reception_centre.waiting_9m",
    )
    check(
        f,
        "2024-02-27",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.reception_centre.permit",
    )


def test_ba_reception_centre_6_months_boundary_after_law_change():
    """berufsausbildung.gestattung.reception_centre.waiting_6m (§ 61 Abs. 1 AsylG, BGBl. 2024
    I Nr. 54): application 28.08.2023 → six months reached on 28.02.2024."""
    f = facts(
        ("gestattung", "2023-08-28", None),
        entry="2023-08-28",
        reception_centre=True,
        asylum_application_date="2023-08-28",
        rejected_manifestly_unfounded=False,
    )
    check(
        f,
        "2024-02-26",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.gestattung.reception_centre.waiting_9m",
    )
    check(
        f,
        "2024-02-27",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.gestattung.reception_centre.waiting_6m",
    )
    check(
        f,
        "2024-02-28",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.reception_centre.permit",
    )


def test_ba_reception_centre_exactly_9_months_under_old_law():
    """berufsausbildung.gestattung.reception_centre.waiting_9m (§ 61 Abs. 1 AsylG a.F.):
    application 10.01.2023 → nine months reached on 10.10.2023."""
    f = facts(
        ("gestattung", "2023-01-10", None),
        entry="2023-01-10",
        reception_centre=True,
        asylum_application_date="2023-01-10",
        rejected_manifestly_unfounded=False,
    )
    check(
        f,
        "2023-10-09",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.gestattung.reception_centre.waiting_9m",
    )
    check(
        f,
        "2023-10-10",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.reception_centre.permit",
    )


def test_ba_reception_centre_manifestly_unfounded_flag():
    """berufsausbildung.gestattung.reception_centre.permit (§ 61 Abs. 1 S. 2 AsylG): unknown
    without flags.rejected_manifestly_unfounded; when it is true no permit →
    berufsausbildung.gestattung.waiting (§ 61 Abs. 1, 2 AsylG)."""
    kw = {
        "entry": "2024-06-01",
        "reception_centre": True,
        "asylum_application_date": "2024-06-01",
    }
    unknown = facts(("gestattung", "2024-06-01", None), **kw)
    check(
        unknown,
        "2025-06-01",
        "berufsausbildung",
        "unknown",
        "berufsausbildung.gestattung.reception_centre.permit",
        ("flags.rejected_manifestly_unfounded",),
    )
    rejected = facts(("gestattung", "2024-06-01", None), rejected_manifestly_unfounded=True, **kw)
    check(
        rejected,
        "2025-06-01",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.gestattung.waiting",
    )


def test_ba_gestattung_missing_reception_centre_and_application_date():
    """berufsausbildung.gestattung.reception_centre.waiting_6m (§ 61 Abs. 1 AsylG) cannot be
    decided without flags.reception_centre and flags.asylum_application_date."""
    f = facts(("gestattung", "2024-06-01", None), entry="2024-06-01")
    check(
        f,
        "2024-10-01",
        "berufsausbildung",
        "unknown",
        "berufsausbildung.gestattung.reception_centre.waiting_6m",
        ("flags.reception_centre", "flags.asylum_application_date"),
    )


def test_ba_gestattung_outside_reception_centre_exactly_3_months():
    """berufsausbildung.gestattung.waiting until the day before three months of stay, then
    berufsausbildung.gestattung.permit_3m (§ 61 Abs. 2 AsylG; § 32 Abs. 2 Nr. 2 BeschV)."""
    f = facts(("gestattung", "2024-01-10", None), reception_centre=False)
    check(f, "2024-04-09", "berufsausbildung", "excluded", "berufsausbildung.gestattung.waiting")
    check(
        f,
        "2024-04-10",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.permit_3m",
    )


def test_ba_gestattung_safe_country():
    """berufsausbildung.gestattung.safe_country (§ 61 Abs. 2 S. 4 AsylG): Georgia is listed
    from 23.12.2023; application after 31.08.2015."""
    f = facts(
        ("gestattung", "2023-09-01", None),
        entry="2023-09-01",
        nationality="GE",
        reception_centre=False,
        asylum_application_date="2023-09-01",
    )
    check(
        f,
        "2023-12-22",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.permit_3m",
    )
    check(
        f, "2023-12-23", "berufsausbildung", "excluded", "berufsausbildung.gestattung.safe_country"
    )


def test_ba_duldung_reception_centre_exactly_6_months():
    """berufsausbildung.duldung.reception_centre (§ 61 Abs. 1 S. 3 AsylG) for six months of
    Duldung, then berufsausbildung.duldung.permit (§ 4a Abs. 4 AufenthG; § 32 BeschV)."""
    f = facts(("duldung", "2025-02-10", None), reception_centre=True, work_ban_60a6=False)
    check(
        f, "2025-08-09", "berufsausbildung", "excluded", "berufsausbildung.duldung.reception_centre"
    )
    check(
        f, "2025-08-10", "berufsausbildung", "needs_permission", "berufsausbildung.duldung.permit"
    )


def test_ba_duldung_work_ban_flag():
    """berufsausbildung.duldung.ban_60a6 (§ 60a Abs. 6 S. 1 Nr. 1, 2 AufenthG): unknown without
    flags.work_ban_60a6, excluded with it."""
    check(
        facts(("duldung", "2024-02-10", None)),
        "2025-03-01",
        "berufsausbildung",
        "unknown",
        "berufsausbildung.duldung.ban_60a6",
        ("flags.work_ban_60a6",),
    )
    check(
        facts(("duldung", "2024-02-10", None), work_ban_60a6=True),
        "2025-03-01",
        "berufsausbildung",
        "excluded",
        "berufsausbildung.duldung.ban_60a6",
    )


@pytest.mark.parametrize(
    ("status", "expected", "rule_id"),
    [
        ("ausbildungsduldung", "entitled", "berufsausbildung.ausbildungsduldung"),
        ("duldung_ungeklaerte_identitaet", "excluded", "berufsausbildung.duldung_60b"),
        ("ausreisepflichtig", "excluded", "berufsausbildung.ausreisepflichtig"),
        ("ankunftsnachweis", "excluded", "berufsausbildung.ankunftsnachweis"),
        ("ae_16a", "entitled", "berufsausbildung.permit"),
    ],
)
def test_ba_status_rules(status, expected, rule_id):
    """berufsausbildung.ausbildungsduldung (§ 60c Abs. 1, § 4a Abs. 4 AufenthG),
    .duldung_60b (§ 60b Abs. 5 S. 2), .ausreisepflichtig (§ 4a Abs. 4), .ankunftsnachweis
    (§ 61 Abs. 1 AsylG), .permit (§§ 4a Abs. 1, 16a AufenthG)."""
    f = facts((status, "2024-06-01", None), work_ban_60a6=True)
    check(f, "2025-06-01", "berufsausbildung", expected, rule_id)


# =====================================================================================
# asa_flex (§§ 74–75a, § 52 Abs. 2 SGB III) — rules/45_asa_eq.toml
# =====================================================================================


def test_asa_flex_gestattung_exactly_15_months():
    """asa_flex.gestattung.waiting until the day before 15 months of stay, then
    asa_flex.gestattung.15m (§ 74 Abs. 3, § 52 Abs. 2 S. 2 SGB III)."""
    f = facts(("gestattung", "2024-01-10", None), in_training=False)
    check(f, "2025-04-09", "asa_flex", "excluded", "asa_flex.gestattung.waiting")
    check(f, "2025-04-10", "asa_flex", "admissible", "asa_flex.gestattung.15m")


def test_asa_flex_15_months_count_the_arrival_certificate():
    """asa_flex.gestattung.15m (§ 52 Abs. 2 S. 2 SGB III): permitted stay includes the
    uninterrupted time with an arrival certificate before the Gestattung."""
    f = facts(
        ("ankunftsnachweis", "2024-01-10", "2024-02-14"),
        ("gestattung", "2024-02-15", None),
        in_training=False,
    )
    check(f, "2025-04-09", "asa_flex", "excluded", "asa_flex.gestattung.waiting")
    check(f, "2025-04-10", "asa_flex", "admissible", "asa_flex.gestattung.15m")


def test_asa_flex_gestattung_entry_before_august_2019_three_months():
    """asa_flex.gestattung.entry_before_2019 (§ 52 Abs. 2 S. 2 SGB III) from the start of AsA
    flex (29.05.2020); before that no rule (asa_flex.not_covered)."""
    f = facts(("gestattung", "2020-01-15", None), entry="2019-07-01", in_training=False)
    check(f, "2020-05-28", "asa_flex", "unknown", "asa_flex.not_covered")
    check(f, "2020-05-29", "asa_flex", "admissible", "asa_flex.gestattung.entry_before_2019")


def test_asa_flex_gestattung_missing_entry_date():
    """asa_flex.gestattung.entry_before_2019 (§ 52 Abs. 2 S. 2 SGB III): after three months
    of stay the entry date decides; without it → unknown naming entry_date."""
    f = facts(("gestattung", "2024-01-10", None), entry=None, in_training=False)
    check(
        f,
        "2024-06-01",
        "asa_flex",
        "unknown",
        "asa_flex.gestattung.entry_before_2019",
        ("entry_date",),
    )


def test_asa_flex_gestattung_in_training_flag():
    """asa_flex.gestattung.in_training (§ 74 SGB III, accompanying phase): unknown without
    flags.in_training before 15 months, admissible when in training."""
    check(
        facts(("gestattung", "2024-01-10", None)),
        "2024-09-01",
        "asa_flex",
        "unknown",
        "asa_flex.gestattung.in_training",
        ("flags.in_training",),
    )
    check(
        facts(("gestattung", "2024-01-10", None), in_training=True),
        "2024-09-01",
        "asa_flex",
        "admissible",
        "asa_flex.gestattung.in_training",
    )


@pytest.mark.parametrize(
    ("status", "work_ban", "expected", "rule_id"),
    [
        ("duldung", False, "admissible", "asa_flex.duldung"),
        ("duldung", True, "excluded", "asa_flex.duldung.barred"),
        ("ausbildungsduldung", True, "admissible", "asa_flex.work_allowed"),
        ("ausreisepflichtig", False, "excluded", "asa_flex.no_access"),
        ("duldung_ungeklaerte_identitaet", False, "excluded", "asa_flex.no_access"),
    ],
)
def test_asa_flex_duldung_and_other_statuses(status, work_ban, expected, rule_id):
    """asa_flex.duldung / .duldung.barred (§ 60a Abs. 6 AufenthG; § 52 Abs. 2 SGB III),
    asa_flex.work_allowed (§ 74 SGB III), asa_flex.no_access (§ 74, § 52 Abs. 2 SGB III)."""
    f = facts((status, "2025-01-01", None), work_ban_60a6=work_ban)
    check(f, "2025-02-01", "asa_flex", expected, rule_id)


# =====================================================================================
# eq (§ 54a SGB III) — rules/45_asa_eq.toml
# =====================================================================================


def test_eq_gestattung_exactly_3_months():
    """eq.gestattung.waiting (§ 61 AsylG) until the day before three months of stay, then
    eq.gestattung.permit (§ 54a Abs. 5 SGB III; § 61 Abs. 2 AsylG)."""
    f = facts(("gestattung", "2024-01-10", None), reception_centre=False)
    check(f, "2024-04-09", "eq", "excluded", "eq.gestattung.waiting")
    check(f, "2024-04-10", "eq", "needs_permission", "eq.gestattung.permit")


def test_eq_gestattung_safe_country():
    """eq.gestattung.safe_country (§ 61 Abs. 2 S. 4 AsylG)."""
    f = facts(
        ("gestattung", "2024-01-10", None),
        nationality="RS",
        reception_centre=False,
        asylum_application_date="2024-01-10",
    )
    check(f, "2025-01-10", "eq", "excluded", "eq.gestattung.safe_country")


@pytest.mark.parametrize(
    ("status", "nationality", "work_ban", "expected", "rule_id"),
    [
        ("duldung", "AF", False, "needs_permission", "eq.duldung.permit"),
        ("duldung", "AF", True, "excluded", "eq.duldung.barred"),
        ("duldung", "AL", False, "excluded", "eq.duldung.safe_country"),
        ("duldung_ungeklaerte_identitaet", "AF", False, "excluded", "eq.no_access"),
        ("ae_25_1", "AF", None, "admissible", "eq.work_allowed"),
    ],
)
def test_eq_duldung_and_other_statuses(status, nationality, work_ban, expected, rule_id):
    """eq.duldung.permit (§ 54a SGB III; § 4a Abs. 4 AufenthG), eq.duldung.barred (§ 60a
    Abs. 6), eq.duldung.safe_country (§ 60a Abs. 6 S. 1 Nr. 3), eq.no_access (§ 60b),
    eq.work_allowed (§ 54a SGB III)."""
    f = facts(
        (status, "2024-06-01", None),
        nationality=nationality,
        work_ban_60a6=work_ban,
        asylum_application_date="2023-01-10",
    )
    check(f, "2025-06-01", "eq", expected, rule_id)


def test_eq_duldung_missing_work_ban_flag():
    """eq.duldung.barred (§ 60a Abs. 6 AufenthG): unknown without flags.work_ban_60a6."""
    f = facts(("duldung", "2024-06-01", None))
    check(f, "2025-06-01", "eq", "unknown", "eq.duldung.barred", ("flags.work_ban_60a6",))


def test_eq_gestattung_reception_centre_after_waiting_time_like_employment():
    """eq (§ 54a SGB III; § 61 Abs. 1 S. 2 AsylG): in a reception centre seven months after
    the application, training in a company needs a permit
    (berufsausbildung.gestattung.reception_centre.permit); EQ follows
    (eq.gestattung.reception_centre.permit)."""
    f = facts(
        ("gestattung", "2024-11-01", None),
        entry="2024-11-01",
        reception_centre=True,
        asylum_application_date="2024-11-01",
        rejected_manifestly_unfounded=False,
    )
    check(
        f,
        "2025-06-01",
        "berufsausbildung",
        "needs_permission",
        "berufsausbildung.gestattung.reception_centre.permit",
    )
    check(f, "2025-06-01", "eq", "needs_permission", "eq.gestattung.reception_centre.permit")


def test_eq_duldung_reception_centre_first_6_months_like_employment():
    """eq (§ 54a SGB III; § 61 Abs. 1 S. 3 AsylG): Geduldete in a reception centre are
    excluded from training in a company for six months
    (berufsausbildung.duldung.reception_centre); EQ follows (eq.duldung.reception_centre)."""
    f = facts(("duldung", "2025-02-10", None), reception_centre=True, work_ban_60a6=False)
    check(
        f, "2025-04-01", "berufsausbildung", "excluded", "berufsausbildung.duldung.reception_centre"
    )
    check(f, "2025-04-01", "eq", "excluded", "eq.duldung.reception_centre")


# =====================================================================================
# ausbildungsduldung (§ 60c AufenthG) — rules/60_duldung_60c_60d.toml
# =====================================================================================

ADL = {"in_training": True, "identity_clarified": True, "work_ban_60a6": False}


def test_adl_exactly_3_months_of_duldung():
    """ausbildungsduldung.waiting_3m (§ 60c Abs. 2 Nr. 2 AufenthG) until the day before three
    months of Duldung; on that day ausbildungsduldung.met.16g (§ 60c Abs. 1, 2; § 16g)."""
    f = facts(("duldung", "2025-01-15", None), training_since="2025-02-01", **ADL)
    check(f, "2025-04-14", "ausbildungsduldung", "excluded", "ausbildungsduldung.waiting_3m")
    check(f, "2025-04-15", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")


def test_adl_3_months_clamped_to_month_end():
    """ausbildungsduldung.waiting_3m (§ 60c Abs. 2 Nr. 2 AufenthG): Duldung from 30.11.2024 →
    three months reached on 28.02.2025 (clamped)."""
    f = facts(("duldung", "2024-11-30", None), training_since="2024-12-15", **ADL)
    check(f, "2025-02-27", "ausbildungsduldung", "excluded", "ausbildungsduldung.waiting_3m")
    check(f, "2025-02-28", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")


def test_adl_3_months_under_old_law():
    """ausbildungsduldung.waiting_3m → ausbildungsduldung.met (§ 60c Abs. 1, 2 AufenthG,
    version until 29.02.2024)."""
    f = facts(("duldung", "2023-10-20", None), training_since="2023-11-01", **ADL)
    check(f, "2024-01-19", "ausbildungsduldung", "excluded", "ausbildungsduldung.waiting_3m")
    check(f, "2024-01-20", "ausbildungsduldung", "entitled", "ausbildungsduldung.met")


def test_adl_met_becomes_met_16g_on_01_03_2024():
    """ausbildungsduldung.met (§ 60c AufenthG, until 29.02.2024) → ausbildungsduldung.met.16g
    (§ 60c; § 16g AufenthG from 01.03.2024, BGBl. 2023 I Nr. 217)."""
    f = facts(
        ("duldung", "2023-01-01", None), entry="2022-05-01", training_since="2023-09-01", **ADL
    )
    check(f, "2024-02-29", "ausbildungsduldung", "entitled", "ausbildungsduldung.met")
    check(f, "2024-03-01", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")


def test_adl_training_begun_during_gestattung_no_waiting_time():
    """ausbildungsduldung.asylum_procedure (§ 60c Abs. 1 S. 1 Nr. 1) while the Gestattung
    lasts; training begun then skips ausbildungsduldung.waiting_3m (not_started_during) →
    ausbildungsduldung.met.16g from the first day of the Duldung."""
    f = facts(
        ("gestattung", "2023-06-01", "2025-01-14"),
        ("duldung", "2025-01-15", None),
        entry="2023-06-01",
        training_since="2024-09-01",
        **ADL,
    )
    check(f, "2025-01-14", "ausbildungsduldung", "excluded", "ausbildungsduldung.asylum_procedure")
    check(f, "2025-01-15", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")


@pytest.mark.parametrize(
    ("training_since", "expected", "rule_id"),
    [
        ("2025-01-14", "entitled", "ausbildungsduldung.met.16g"),  # last day of Gestattung
        ("2025-01-15", "excluded", "ausbildungsduldung.waiting_3m"),  # first day of Duldung
    ],
)
def test_adl_training_start_on_the_status_change_boundary(training_since, expected, rule_id):
    """ausbildungsduldung.waiting_3m (§ 60c Abs. 2 Nr. 2 AufenthG): started_during
    includes the Gestattung's last day and excludes the Duldung's first day."""
    f = facts(
        ("gestattung", "2023-06-01", "2025-01-14"),
        ("duldung", "2025-01-15", None),
        entry="2023-06-01",
        training_since=training_since,
        **ADL,
    )
    check(f, "2025-02-01", "ausbildungsduldung", expected, rule_id)


def test_adl_ausreisepflichtig_training_from_gestattung_vs_later():
    """ausbildungsduldung.met.16g for an ausreisepflichtig person whose training began during
    the Gestattung (§ 60c Abs. 1 S. 1 Nr. 1); begun later, ausbildungsduldung.waiting_3m
    (§ 60c Abs. 2 Nr. 2: no Duldung held at all)."""
    hist = (("gestattung", "2023-06-01", "2025-01-14"), ("ausreisepflichtig", "2025-01-15", None))
    early = facts(*hist, entry="2023-06-01", training_since="2024-08-01", **ADL)
    late = facts(*hist, entry="2023-06-01", training_since="2025-02-01", **ADL)
    check(early, "2025-06-01", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")
    check(late, "2025-06-01", "ausbildungsduldung", "excluded", "ausbildungsduldung.waiting_3m")


def test_adl_missing_training_since_only_matters_within_3_months():
    """ausbildungsduldung.waiting_3m (§ 60c Abs. 2 Nr. 2 AufenthG): within three months of
    Duldung flags.training_since decides (unknown); afterwards it is not needed."""
    f = facts(("duldung", "2025-01-15", None), **ADL)
    check(
        f,
        "2025-03-01",
        "ausbildungsduldung",
        "unknown",
        "ausbildungsduldung.waiting_3m",
        ("flags.training_since",),
    )
    check(f, "2025-04-15", "ausbildungsduldung", "entitled", "ausbildungsduldung.met.16g")


def test_adl_identity_missing_and_not_clarified():
    """ausbildungsduldung.identity_discretion (§ 60c Abs. 2 Nr. 3, Abs. 7 AufenthG): unknown
    without flags.identity_clarified; admissible (discretion) when not clarified."""
    kw = {"in_training": True, "work_ban_60a6": False, "training_since": "2024-02-01"}
    check(
        facts(("duldung", "2024-01-15", None), **kw),
        "2025-01-15",
        "ausbildungsduldung",
        "unknown",
        "ausbildungsduldung.identity_discretion",
        ("flags.identity_clarified",),
    )
    check(
        facts(("duldung", "2024-01-15", None), identity_clarified=False, **kw),
        "2025-01-15",
        "ausbildungsduldung",
        "admissible",
        "ausbildungsduldung.identity_discretion",
    )


def test_adl_missing_in_training_and_no_training():
    """ausbildungsduldung.no_training (§ 60c Abs. 1 S. 1 AufenthG): unknown without
    flags.in_training, excluded without a training."""
    kw = {"identity_clarified": True, "work_ban_60a6": False}
    check(
        facts(("duldung", "2024-01-15", None), **kw),
        "2025-01-15",
        "ausbildungsduldung",
        "unknown",
        "ausbildungsduldung.no_training",
        ("flags.in_training",),
    )
    check(
        facts(("duldung", "2024-01-15", None), in_training=False, **kw),
        "2025-01-15",
        "ausbildungsduldung",
        "excluded",
        "ausbildungsduldung.no_training",
    )


@pytest.mark.parametrize(
    ("status", "nationality", "work_ban", "expected", "rule_id"),
    [
        ("ae_25_2_gfk", "AF", False, "excluded", "ausbildungsduldung.has_title"),
        ("ausbildungsduldung", "AF", False, "entitled", "ausbildungsduldung.holds"),
        ("duldung_ungeklaerte_identitaet", "AF", False, "excluded", "ausbildungsduldung.barred"),
        ("duldung", "AF", True, "excluded", "ausbildungsduldung.ban_60a6"),
        ("duldung", "MK", False, "excluded", "ausbildungsduldung.safe_country"),
    ],
)
def test_adl_exclusions(status, nationality, work_ban, expected, rule_id):
    """ausbildungsduldung.has_title / .holds (§ 60c Abs. 1), .barred (§ 60b), .ban_60a6
    (§ 60c Abs. 2 Nr. 1; § 60a Abs. 6), .safe_country (§ 60a Abs. 6 S. 1 Nr. 3)."""
    f = facts(
        (status, "2024-01-15", None),
        nationality=nationality,
        work_ban_60a6=work_ban,
        asylum_application_date="2022-03-01",
        in_training=True,
        identity_clarified=True,
        training_since="2024-02-01",
    )
    check(f, "2025-01-15", "ausbildungsduldung", expected, rule_id)


# =====================================================================================
# beschaeftigungsduldung (§ 60d AufenthG) — rules/60_duldung_60c_60d.toml
# =====================================================================================

BDL = {
    "german_level": "A2",
    "identity_clarified": True,
    "weekly_hours_employed": 40,
}


def test_bdl_35_hours_until_29_02_2024_then_20_hours():
    """beschaeftigungsduldung.hours_35 (§ 60d Abs. 1 Nr. 3 AufenthG a.F.) on 29.02.2024;
    25 hours suffice from 01.03.2024 → beschaeftigungsduldung.met (BGBl. 2023 I Nr. 217)."""
    f = facts(
        ("duldung", "2021-01-01", None),
        entry="2018-03-01",
        employed_since="2021-06-01",
        livelihood_secured_since="2021-06-01",
        **{**BDL, "weekly_hours_employed": 25},
    )
    check(f, "2024-02-29", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.hours_35")
    check(f, "2024-03-01", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


def test_bdl_18_months_employment_until_29_02_2024_then_12_months():
    """beschaeftigungsduldung.employed_18m (§ 60d Abs. 1 Nr. 3 AufenthG a.F.): 14 months on
    29.02.2024 are too few; on 01.03.2024 15 ≥ 12 → beschaeftigungsduldung.met."""
    f = facts(
        ("duldung", "2021-01-01", None),
        entry="2018-03-01",
        employed_since="2022-12-01",
        livelihood_secured_since="2022-12-01",
        **BDL,
    )
    check(
        f, "2024-02-29", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.employed_18m"
    )
    check(f, "2024-03-01", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


def test_bdl_entry_cut_off_01_08_2018_then_31_12_2022():
    """beschaeftigungsduldung.entry_late_2018 (§ 60d Abs. 1 AufenthG a.F.: entry by
    01.08.2018) on 29.02.2024; from 01.03.2024 entry by 31.12.2022 suffices →
    beschaeftigungsduldung.met."""
    f = facts(
        ("duldung", "2021-01-01", None),
        entry="2019-05-01",
        employed_since="2021-06-01",
        livelihood_secured_since="2021-06-01",
        **BDL,
    )
    check(
        f,
        "2024-02-29",
        "beschaeftigungsduldung",
        "excluded",
        "beschaeftigungsduldung.entry_late_2018",
    )
    check(f, "2024-03-01", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


@pytest.mark.parametrize(
    ("entry", "expected", "rule_id"),
    [
        ("2018-08-01", "entitled", "beschaeftigungsduldung.met_2020"),
        ("2018-08-02", "excluded", "beschaeftigungsduldung.entry_late_2018"),
    ],
)
def test_bdl_entry_boundary_old_law(entry, expected, rule_id):
    """beschaeftigungsduldung.met_2020 / .entry_late_2018 (§ 60d Abs. 1 AufenthG a.F.): entry
    on 01.08.2018 is in time, 02.08.2018 is not."""
    f = facts(
        ("duldung", "2021-01-01", None),
        entry=entry,
        employed_since="2021-06-01",
        livelihood_secured_since="2021-06-01",
        **BDL,
    )
    check(f, "2024-02-29", "beschaeftigungsduldung", expected, rule_id)


@pytest.mark.parametrize(
    ("entry", "expected", "rule_id"),
    [
        ("2022-12-31", "entitled", "beschaeftigungsduldung.met"),
        ("2023-01-01", "excluded", "beschaeftigungsduldung.entry_late"),
    ],
)
def test_bdl_entry_boundary_new_law(entry, expected, rule_id):
    """beschaeftigungsduldung.met / .entry_late (§ 60d Abs. 1 AufenthG from 01.03.2024):
    entry on 31.12.2022 is in time, 01.01.2023 is not."""
    f = facts(
        ("duldung", "2023-03-01", None),
        entry=entry,
        employed_since="2023-06-01",
        livelihood_secured_since="2023-06-01",
        **BDL,
    )
    check(f, "2025-06-01", "beschaeftigungsduldung", expected, rule_id)


def test_bdl_exactly_12_months_of_duldung():
    """beschaeftigungsduldung.duldung_12m (§ 60d Abs. 1 Nr. 2 AufenthG) until the day before
    12 months of Duldung; then beschaeftigungsduldung.met."""
    f = facts(
        ("gestattung", "2022-06-01", "2024-06-14"),
        ("duldung", "2024-06-15", None),
        entry="2022-06-01",
        employed_since="2023-01-01",
        livelihood_secured_since="2023-01-01",
        **BDL,
    )
    check(
        f, "2025-06-14", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.duldung_12m"
    )
    check(f, "2025-06-15", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


def test_bdl_exactly_12_months_of_employment():
    """beschaeftigungsduldung.employed_12m (§ 60d Abs. 1 Nr. 3 AufenthG) until the day before
    12 months of employment; then beschaeftigungsduldung.met."""
    f = facts(
        ("duldung", "2023-01-01", None),
        entry="2022-06-01",
        employed_since="2024-09-30",
        livelihood_secured_since="2024-01-01",
        **BDL,
    )
    check(
        f, "2025-09-29", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.employed_12m"
    )
    check(f, "2025-09-30", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


def test_bdl_exactly_12_months_of_secured_livelihood():
    """beschaeftigungsduldung.livelihood_12m (§ 60d Abs. 1 Nr. 4 AufenthG) until the day
    before 12 months; then beschaeftigungsduldung.met."""
    f = facts(
        ("duldung", "2023-01-01", None),
        entry="2022-06-01",
        employed_since="2024-01-01",
        livelihood_secured_since="2024-11-05",
        **BDL,
    )
    check(
        f,
        "2025-11-04",
        "beschaeftigungsduldung",
        "excluded",
        "beschaeftigungsduldung.livelihood_12m",
    )
    check(f, "2025-11-05", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


@pytest.mark.parametrize(
    ("hours", "expected", "rule_id"),
    [
        (19.5, "excluded", "beschaeftigungsduldung.hours_20"),
        (20, "entitled", "beschaeftigungsduldung.met"),
    ],
)
def test_bdl_20_hours_boundary(hours, expected, rule_id):
    """beschaeftigungsduldung.hours_20 (§ 60d Abs. 1 Nr. 3 AufenthG): at least 20 hours."""
    f = facts(
        ("duldung", "2023-01-01", None),
        entry="2022-06-01",
        employed_since="2024-01-01",
        livelihood_secured_since="2024-01-01",
        **{**BDL, "weekly_hours_employed": hours},
    )
    check(f, "2025-06-01", "beschaeftigungsduldung", expected, rule_id)


def test_bdl_german_below_a2_excluded():
    """beschaeftigungsduldung.german (§ 60d Abs. 1 Nr. 6 AufenthG): A1 is not enough."""
    f = facts(
        ("duldung", "2023-01-01", None),
        entry="2022-06-01",
        employed_since="2024-01-01",
        livelihood_secured_since="2024-01-01",
        **{**BDL, "german_level": "A1"},
    )
    check(f, "2025-06-01", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.german")


def test_bdl_identity_not_clarified_discretion():
    """beschaeftigungsduldung.identity_discretion (§ 60d Abs. 1 Nr. 1, Abs. 4 AufenthG)."""
    f = facts(
        ("duldung", "2023-01-01", None),
        entry="2022-06-01",
        employed_since="2024-01-01",
        livelihood_secured_since="2024-01-01",
        **{**BDL, "identity_clarified": False},
    )
    check(
        f,
        "2025-06-01",
        "beschaeftigungsduldung",
        "admissible",
        "beschaeftigungsduldung.identity_discretion",
    )


@pytest.mark.parametrize(
    ("drop", "rule_id", "missing"),
    [
        ("entry", "beschaeftigungsduldung.entry_late", ("entry_date",)),
        ("german_level", "beschaeftigungsduldung.german", ("flags.german_level",)),
        (
            "weekly_hours_employed",
            "beschaeftigungsduldung.hours_20",
            ("flags.weekly_hours_employed",),
        ),
        ("employed_since", "beschaeftigungsduldung.employed_12m", ("flags.employed_since",)),
        (
            "livelihood_secured_since",
            "beschaeftigungsduldung.livelihood_12m",
            ("flags.livelihood_secured_since",),
        ),
        (
            "identity_clarified",
            "beschaeftigungsduldung.identity_discretion",
            ("flags.identity_clarified",),
        ),
    ],
)
def test_bdl_missing_facts_are_named(drop, rule_id, missing):
    """beschaeftigungsduldung.entry_late / .german / .hours_20 / .employed_12m /
    .livelihood_12m / .identity_discretion (§ 60d Abs. 1 AufenthG): a missing fact gives
    unknown at the first rule needing it."""
    kw = {
        "entry": "2022-06-01",
        "employed_since": "2024-01-01",
        "livelihood_secured_since": "2024-01-01",
        **BDL,
    }
    kw[drop] = None
    f = facts(("duldung", "2023-01-01", None), **kw)
    check(f, "2025-06-01", "beschaeftigungsduldung", "unknown", rule_id, missing)


def test_bdl_missing_entry_date_under_old_law():
    """beschaeftigungsduldung.entry_late_2018 (§ 60d Abs. 1 AufenthG a.F.): unknown naming
    entry_date."""
    f = facts(
        ("duldung", "2021-01-01", None),
        entry=None,
        employed_since="2021-06-01",
        livelihood_secured_since="2021-06-01",
        **BDL,
    )
    check(
        f,
        "2024-02-29",
        "beschaeftigungsduldung",
        "unknown",
        "beschaeftigungsduldung.entry_late_2018",
        ("entry_date",),
    )


@pytest.mark.parametrize(
    ("status", "expected", "rule_id"),
    [
        ("gestattung", "excluded", "beschaeftigungsduldung.has_title"),
        ("beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.holds"),
        ("duldung_ungeklaerte_identitaet", "excluded", "beschaeftigungsduldung.barred"),
    ],
)
def test_bdl_status_rules(status, expected, rule_id):
    """beschaeftigungsduldung.has_title (§ 60d Abs. 1), .holds (§ 60d; § 25b Abs. 6),
    .barred (§ 60d Abs. 1 Nr. 1; § 60b AufenthG)."""
    f = facts((status, "2023-01-01", None), entry="2022-06-01", **BDL)
    check(f, "2025-06-01", "beschaeftigungsduldung", expected, rule_id)


# =====================================================================================
# Upcoming: <category>_reachable (engine _upcoming, REACHABLE)
# =====================================================================================


def _reachable(f, day: str, event: str) -> list[str]:
    return [u.date.isoformat() for u in on(f, day).upcoming if u.event == event]


def test_upcoming_beschaeftigungsduldung_reachable_on_latest_12_month_date():
    """beschaeftigungsduldung.met (§ 60d Abs. 1 Nr. 2–4 AufenthG): reachable on the later of
    employed_since + 12 months (15.08.2025), livelihood_secured_since + 12 months
    (20.01.2026) and Duldung start + 12 months (01.10.2025)."""
    f = facts(
        ("duldung", "2024-10-01", None),
        entry="2022-05-01",
        employed_since="2024-08-15",
        livelihood_secured_since="2025-01-20",
        german_level="A2",
        identity_clarified=True,
        weekly_hours_employed=25,
    )
    check(
        f, "2025-03-01", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.duldung_12m"
    )
    assert _reachable(f, "2025-03-01", "beschaeftigungsduldung_reachable") == ["2026-01-20"]
    check(f, "2026-01-20", "beschaeftigungsduldung", "entitled", "beschaeftigungsduldung.met")


def test_upcoming_beschaeftigungsduldung_reachable_when_duldung_start_is_latest():
    """beschaeftigungsduldung.met (§ 60d Abs. 1 Nr. 2 AufenthG): the Duldung run starts
    after the Gestattung, so Duldung start + 12 months (01.01.2026) is the latest date."""
    f = facts(
        ("gestattung", "2022-11-01", "2024-12-31"),
        ("duldung", "2025-01-01", None),
        entry="2022-11-01",
        employed_since="2023-06-01",
        livelihood_secured_since="2023-09-01",
        german_level="B1",
        identity_clarified=True,
        weekly_hours_employed=25,
    )
    check(
        f, "2025-02-01", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.duldung_12m"
    )
    assert _reachable(f, "2025-02-01", "beschaeftigungsduldung_reachable") == ["2026-01-01"]


def test_upcoming_beschaeftigungsduldung_reachable_by_the_2024_law_change():
    """beschaeftigungsduldung.hours_35 (§ 60d a.F.) today; the new § 60d Abs. 1 Nr. 3 (20
    hours, 12 months) makes beschaeftigungsduldung.met reachable on 01.03.2024."""
    f = facts(
        ("duldung", "2020-01-01", None),
        entry="2018-01-01",
        employed_since="2023-01-01",
        livelihood_secured_since="2023-01-01",
        german_level="A2",
        identity_clarified=True,
        weekly_hours_employed=25,
    )
    check(f, "2023-12-01", "beschaeftigungsduldung", "excluded", "beschaeftigungsduldung.hours_35")
    assert _reachable(f, "2023-12-01", "beschaeftigungsduldung_reachable") == ["2024-03-01"]


def test_upcoming_ausbildungsduldung_reachable_after_3_months_of_duldung():
    """ausbildungsduldung.waiting_3m → ausbildungsduldung.met.16g (§ 60c Abs. 2 Nr. 2
    AufenthG): reachable on Duldung start + 3 months (15.04.2025)."""
    f = facts(("duldung", "2025-01-15", None), training_since="2025-02-01", **ADL)
    check(f, "2025-03-01", "ausbildungsduldung", "excluded", "ausbildungsduldung.waiting_3m")
    assert _reachable(f, "2025-03-01", "ausbildungsduldung_reachable") == ["2025-04-15"]
