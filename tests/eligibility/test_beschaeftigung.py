"""Employment (rules/20_beschaeftigung.toml)."""

from typing import Any

from .helpers import facts, on, result

RC: dict[str, Any] = {"reception_centre": True, "rejected_manifestly_unfounded": False}


def test_reception_centre_waiting_6m_boundary():
    """beschaeftigung.gestattung.reception_centre.waiting_6m / .permit (since 27.02.2024)."""
    f = facts(("gestattung", "2024-05-01", None), asylum_application_date="2024-05-01", **RC)
    assert result(f, "2024-10-31", "beschaeftigung") == "excluded"
    item = on(f, "2024-11-01").item("beschaeftigung")
    assert item.result == "needs_permission"
    assert item.rule_id == "beschaeftigung.gestattung.reception_centre.permit"


def test_reception_centre_9m_before_and_6m_after_law_change():
    """beschaeftigung.gestattung.reception_centre.waiting_9m until 26.02.2024, 6 months after."""
    f = facts(
        ("gestattung", "2023-08-15", None),
        entry="2023-08-15",
        asylum_application_date="2023-08-15",
        **RC,
    )
    assert on(f, "2024-02-26").item("beschaeftigung").rule_id.endswith("waiting_9m")
    assert result(f, "2024-02-26", "beschaeftigung") == "excluded"
    assert result(f, "2024-02-27", "beschaeftigung") == "needs_permission"


def test_reception_centre_manifestly_unfounded():
    """beschaeftigung.gestattung.reception_centre.manifestly_unfounded."""
    f = facts(
        ("gestattung", "2024-05-01", None),
        asylum_application_date="2024-05-01",
        reception_centre=True,
        rejected_manifestly_unfounded=True,
    )
    assert result(f, "2025-01-01", "beschaeftigung") == "excluded"


def test_reception_centre_flag_missing_is_unknown():
    """beschaeftigung.gestattung.reception_centre.*: missing flag named, no guess."""
    f = facts(("gestattung", "2024-05-01", None), asylum_application_date="2024-05-01")
    item = on(f, "2025-01-01").item("beschaeftigung")
    assert item.result == "unknown"
    assert "flags.reception_centre" in item.missing


def test_outside_reception_centre_exactly_3_months():
    """beschaeftigung.gestattung.permit_3m: § 61 Abs. 2 AsylG three months."""
    f = facts(
        ("gestattung", "2025-01-10", None),
        entry="2025-01-10",
        asylum_application_date="2025-01-10",
        reception_centre=False,
    )
    assert result(f, "2025-04-09", "beschaeftigung") == "excluded"
    assert result(f, "2025-04-10", "beschaeftigung") == "needs_permission"


def test_safe_country_ban_georgia_from_23_12_2023():
    """beschaeftigung.gestattung.safe_country: Georgia listed since 23.12.2023."""
    f = facts(
        ("gestattung", "2023-01-10", None),
        entry="2023-01-10",
        nationality="GE",
        asylum_application_date="2023-01-10",
        reception_centre=False,
    )
    assert result(f, "2023-12-22", "beschaeftigung") == "needs_permission"
    item = on(f, "2023-12-23").item("beschaeftigung")
    assert item.result == "excluded"
    assert item.rule_id == "beschaeftigung.gestattung.safe_country"


def test_missing_nationality_is_unknown():
    """beschaeftigung.gestattung.safe_country needs nationality."""
    f = facts(
        ("gestattung", "2025-01-10", None),
        nationality=None,
        asylum_application_date="2025-01-10",
        reception_centre=False,
    )
    item = on(f, "2025-06-01").item("beschaeftigung")
    assert item.result == "unknown"
    assert item.missing == ("nationality",)


def test_duldung_60b_ban():
    """beschaeftigung.duldung_60b.ban: § 60b Abs. 5 S. 2 AufenthG."""
    f = facts(("duldung_ungeklaerte_identitaet", "2024-03-01", None))
    assert result(f, "2025-01-01", "beschaeftigung") == "excluded"


def test_duldung_work_ban_60a6():
    """beschaeftigung.duldung.ban_60a6 and .permit."""
    banned = facts(("duldung", "2024-03-01", None), work_ban_60a6=True)
    free = facts(("duldung", "2024-03-01", None), work_ban_60a6=False)
    unknown = facts(("duldung", "2024-03-01", None))
    assert result(banned, "2025-01-01", "beschaeftigung") == "excluded"
    assert result(free, "2025-01-01", "beschaeftigung") == "needs_permission"
    assert on(unknown, "2025-01-01").item("beschaeftigung").missing == ("flags.work_ban_60a6",)


def test_duldung_safe_country_60a6_nr3():
    """beschaeftigung.duldung.safe_country: § 60a Abs. 6 S. 1 Nr. 3 AufenthG."""
    f = facts(
        ("duldung", "2024-03-01", None),
        nationality="AL",
        asylum_application_date="2023-05-01",
        work_ban_60a6=False,
    )
    assert on(f, "2025-01-01").item("beschaeftigung").rule_id.endswith("duldung.safe_country")


def test_ausbildungsduldung_needs_permission():
    """beschaeftigung.duldung.training_employment: § 60c AufenthG."""
    f = facts(("ausbildungsduldung", "2024-08-01", None))
    assert result(f, "2025-01-01", "beschaeftigung") == "needs_permission"


def test_protection_entitled_4a_and_not_covered_before_2020():
    """beschaeftigung.permit_4a1 from 01.03.2020; earlier not covered (unknown)."""
    f = facts(("ae_25_2_subsidiaer", "2019-06-01", None), entry="2018-01-01")
    assert result(f, "2020-03-01", "beschaeftigung") == "entitled"
    item = on(f, "2020-02-29").item("beschaeftigung")
    assert item.result == "unknown"
    assert item.rule_id == "beschaeftigung.not_covered"


def test_ausreisepflichtig_excluded():
    """beschaeftigung.ausreisepflichtig: § 4a Abs. 4 AufenthG."""
    f = facts(("ausreisepflichtig", "2025-01-01", None))
    assert result(f, "2025-06-01", "beschaeftigung") == "excluded"


def test_no_status_on_date_is_unknown():
    """Any status rule needs status_history on the date."""
    f = facts(("gestattung", "2025-01-01", "2025-03-01"))
    item = on(f, "2025-06-01").item("beschaeftigung")
    assert item.result == "unknown"
    assert "status_history" in item.missing


def test_duldung_in_reception_centre_first_six_months():
    """beschaeftigung.duldung.reception_centre: § 61 Abs. 1 S. 3 AsylG six months of Duldung."""
    f = facts(("duldung", "2025-01-15", None), reception_centre=True, work_ban_60a6=False)
    assert result(f, "2025-07-14", "beschaeftigung") == "excluded"
    assert result(f, "2025-07-15", "beschaeftigung") == "needs_permission"


def test_long_duldung_needs_no_reception_centre_fact():
    """beschaeftigung.duldung.reception_centre is decided by the six months alone."""
    f = facts(("duldung", "2023-01-15", None), work_ban_60a6=False)
    assert result(f, "2025-01-15", "beschaeftigung") == "needs_permission"


def test_ankunftsnachweis_excluded():
    """beschaeftigung.ankunftsnachweis: § 61 Abs. 1 AsylG."""
    f = facts(("ankunftsnachweis", "2025-01-10", None), entry="2025-01-08")
    assert result(f, "2025-02-01", "beschaeftigung") == "excluded"
