"""/api/v1/analytics (issue #7): aggregates only, for analysts and coordinators,
withheld counts null, every call logged as one aggregate read."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from ..factories import CaseFactory, DistrictFactory
from .conftest import LogWatch


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def test_situation_for_analysts_and_coordinators(api, world):
    north = DistrictFactory(name="Nord")
    for _i in range(9):
        CaseFactory(person__district=north, person__birth_date=dt.date(2004, 1, 1))
    for _i in range(6):
        CaseFactory(person__district=north, person__birth_date=dt.date(1980, 1, 1))
    for role in ("analyst", "coordinator", "team_lead"):
        watch = LogWatch()
        response = api.get("/analytics/situation?population=all", role)
        assert response.status_code == 200, response.content
        data = response.json()
        assert data["on"] == timezone.localdate().isoformat()
        # The world's two cases (born 2003, no district) and the 15 above.
        assert data["persons"] == 17 and data["population"] == "all"
        district = next(d for d in data["dimensions"] if d["code"] == "district")
        table = district["table"]
        assert table["columns"] == ["18–27 years", "other ages"]
        assert table["column_totals"] == [11, 6]
        assert table["rows"] == ["Nord", "not known"]
        assert table["cells"][1] == [None, None]  # 2 persons without a district
        assert data["disclosure"]["k"] == 5
        flat = [v for row in table["cells"] for v in row] + table["row_totals"]
        assert all(v is None or v >= 5 for v in flat)
        (entry,) = watch.entries()
        assert entry.person_id is None and entry.object_id == "situation:all"
        assert "Haddad" not in response.content.decode()
    for role in ("case_manager", "partner_staff", "org_admin"):
        watch = LogWatch()
        assert api.get("/analytics/situation", role).status_code == 403
        assert watch.entries() == []
    assert api.get("/analytics/situation?population=mine", "analyst").status_code == 422


def test_gaps_for_analysts_coordinators_and_team_leads(api, world):
    from lotse.core.models import NeedType

    from ..analytics.test_gaps import _with_need

    b1 = NeedType.objects.get_or_create(
        code="deutsch_b1", defaults={"name": "Deutsch B1", "life_domain": "language"}
    )[0]
    _with_need(6, b1, age=22, status="duldung")
    _with_need(3, b1, age=22, status="ae_25_2_gfk")
    for role in ("analyst", "coordinator", "team_lead"):
        watch = LogWatch()
        response = api.get("/analytics/gaps", role)
        assert response.status_code == 200, response.content
        cells = {(c["need_type"], c["target_group"]): c for c in response.json()["cells"]}
        tolerated = cells[("deutsch_b1", "jv_geduldet")]
        assert tolerated["demand"] == 6 and tolerated["structural"] is True
        assert cells[("deutsch_b1", "jv_schutz")]["demand"] is None  # 3: withheld
        (entry,) = watch.entries()
        assert entry.person_id is None and entry.object_id == "gaps"
    for role in ("case_manager", "partner_staff", "org_admin"):
        assert api.get("/analytics/gaps", role).status_code == 403


def test_quality_and_goals(api, world):
    from lotse.analytics.models import Goal

    principle = Goal.objects.create(level="principle", title="Angebot für alle")
    framework = Goal.objects.create(level="framework", title="Zugang", parent=principle)
    Goal.objects.create(
        level="result",
        title="Pläne",
        parent=framework,
        indicator="plan_share",
        params={"months": 12},
        target_value=90,
    )
    for role in ("analyst", "coordinator", "team_lead"):
        for path, object_id in (("/analytics/quality", "quality"), ("/analytics/goals", "goals")):
            watch = LogWatch()
            response = api.get(path, role)
            assert response.status_code == 200, response.content
            (entry,) = watch.entries()
            assert entry.person_id is None and entry.object_id == object_id
        (tree,) = api.get("/analytics/goals", role).json()
        (result,) = tree["children"][0]["children"]
        assert result["indicator"] == "plan_share" and result["unit"] == "percent"
        assert result["value"] is None and len(result["trend"]) == 5  # too few persons
    for role in ("case_manager", "partner_staff", "org_admin"):
        assert api.get("/analytics/quality", role).status_code == 403
        assert api.get("/analytics/goals", role).status_code == 403


def test_report_tables_for_analysts_only_and_bad_periods_refused(api, world):
    for _i in range(8):
        CaseFactory(person__birth_date=dt.date(2004, 1, 1))
    end = timezone.localdate() - dt.timedelta(days=1)
    query = f"/analytics/report?period_start={end.replace(day=1) - dt.timedelta(days=60)}"
    watch = LogWatch()
    response = api.get(f"{query}&period_end={end}", "analyst")
    assert response.status_code == 200, response.content
    data = response.json()
    codes = [s["code"] for s in data["sections"]]
    assert codes == ["situation", "goals", "gaps", "quality", "careers", "flows"]
    assert data["disclosure"]["k"] == 5
    for section in data["sections"]:
        for table in section["tables"]:
            for row in table["rows"] + ([table["footer"]] if table["footer"] else []):
                for j in table["count_columns"]:
                    assert row[j] == "•" or row[j] >= 5, (table["code"], row)
    (entry,) = watch.entries()
    assert entry.action == "export" and entry.person_id is None
    # The period must have ended; nothing is logged for a refused one.
    watch = LogWatch()
    future = timezone.localdate() + dt.timedelta(days=3)
    response = api.get(f"{query}&period_end={future}", "analyst")
    assert response.status_code == 422
    assert "period_end" in response.content.decode()
    assert watch.entries() == []
    for role in ("case_manager", "partner_staff", "org_admin"):
        assert api.get(f"{query}&period_end={end}", role).status_code == 403
    assert watch.entries() == []


def test_monitoring_data_set_for_analysts_when_configured(api, world, settings):
    from lotse.analytics import monitor

    watch = LogWatch()
    response = api.get("/analytics/monitoring", "analyst")
    assert response.status_code == 422 and "municipality" in response.content.decode()
    assert watch.entries() == []
    settings.LOTSE_MUNICIPALITY_CODE, settings.LOTSE_MUNICIPALITY_NAME = "05999999", "Auenstadt"
    response = api.get("/analytics/monitoring", "coordinator")
    assert response.status_code == 200, response.content
    data = response.json()
    assert monitor.validate(data) == [] and data["area"]["code"] == "05999999"
    (entry,) = watch.entries()
    assert entry.action == "export" and entry.object_id == "monitor:05999999"
    for role in ("case_manager", "partner_staff", "org_admin"):
        assert api.get("/analytics/monitoring", role).status_code == 403
    assert len(watch.entries()) == 1
