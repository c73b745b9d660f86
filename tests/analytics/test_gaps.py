"""Gap analysis (issue #7): demand per need type × target group, accessible supply,
structural gaps, the classification order, and the drill-down to cases only for
users who may see them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lotse.analytics.gaps import Group, OfferSupply, accessible
from lotse.analytics.models import NeedClassification
from lotse.analytics.selectors import gap_detail_get, gaps_get
from lotse.casework.models import Assessment, AssessmentItem
from lotse.core.models import AccessLogEntry, NeedType
from lotse.people.models import TargetGroup
from tests.conftest import login
from tests.factories import (
    CaseFactory,
    ConsentFactory,
    DistrictFactory,
    OfferFactory,
    ResidenceFactory,
    TeamMemberFactory,
)


def _born(age: int) -> dt.date:
    today = timezone.localdate()
    return (
        dt.date(today.year - age - 1, 1, 1) if today.month < 6 else dt.date(today.year - age, 1, 1)
    )


def _with_need(n: int, need: NeedType, *, age: int, status: str, district=None, lead=None):
    cases = []
    for _i in range(n):
        kwargs = {"lead_organisation": lead} if lead else {}
        case = CaseFactory(person__birth_date=_born(age), person__district=district, **kwargs)
        ResidenceFactory(person=case.person, status=status, valid_from=dt.date(2024, 1, 1))
        assessment = Assessment.objects.create(
            case=case, assessed_on=timezone.localdate(), assessed_by=case.case_manager
        )
        AssessmentItem.objects.create(
            assessment=assessment,
            life_domain=need.life_domain,
            kind="need",
            need_type=need,
            description="Braucht einen Kurs",
            priority="high",
            status="open",
        )
        cases.append(case)
    return cases


@pytest.fixture
def b1(db):
    return NeedType.objects.get_or_create(
        code="deutsch_b1", defaults={"name": "Deutsch B1", "life_domain": "language"}
    )[0]


def _group(code: str) -> TargetGroup:
    return TargetGroup.objects.get(code=code)


def test_demand_supply_and_structural_gaps(world, b1):
    _with_need(7, b1, age=22, status="duldung")
    _with_need(6, b1, age=22, status="ae_25_2_gfk")
    _with_need(2, b1, age=40, status="ae_25_2_gfk")  # small: withheld
    # A course for protected persons only, with 4 free places; one without a limit
    # for everybody over 27.
    course = OfferFactory(category="berufssprachkurs", capacity=10, occupied=6)
    course.statuses = ["ae_25_2_gfk"]
    course.save()
    course.need_types.add(b1)
    open_course = OfferFactory(category="sprachkurs", capacity=None, age_min=28)
    open_course.need_types.add(b1)
    matrix = gaps_get(actor=world.analyst)
    tolerated = matrix.cell("deutsch_b1", "jv_geduldet")
    protected = matrix.cell("deutsch_b1", "jv_schutz")
    older = matrix.cell("deutsch_b1", "ab_28")
    assert tolerated.demand.value == 7 and tolerated.structural and tolerated.unmet == 7
    assert protected.demand.value == 6 and protected.places == 4 and protected.unmet == 2
    assert protected.offers == (course.pk,)
    assert older.demand.value is None and older.unlimited == 1 and older.unmet is None
    # Nothing below k is published.
    for row in matrix.cells:
        for c in row:
            assert c.demand.value is None or c.demand.value >= 5


def test_the_law_closes_offers(world):
    """An integration-course place is no supply for persons with Duldung where the
    eligibility rules exclude them even in the most favourable case."""
    group = Group(1, "g", "g", ("tolerated",), 18, 27)
    offer = OfferSupply(
        1, "IK", "VHS", "integrationskurs", ("ausreisepflichtig",), None, None, 5, (1,)
    )
    assert not accessible(offer, group, timezone.localdate(), lambda c, s, on: True)
    assert accessible(offer, group, timezone.localdate(), lambda c, s, on: False)
    # Age ranges that do not meet.
    young = OfferSupply(2, "U18", "JMD", "beratung", (), None, 17, 5, (1,))
    assert not accessible(young, group, timezone.localdate(), lambda c, s, on: False)


def test_report_sorts_by_classification(world, b1):
    a2 = NeedType.objects.get_or_create(
        code="deutsch_a2", defaults={"name": "Deutsch A2", "life_domain": "language"}
    )[0]
    _with_need(5, b1, age=22, status="duldung")
    _with_need(6, a2, age=22, status="duldung")
    NeedClassification.objects.create(
        need_type=b1, target_group=_group("jv_geduldet"), level="legally_required"
    )
    NeedClassification.objects.create(
        need_type=a2, target_group=_group("jv_geduldet"), level="desirable"
    )
    report = [(c.need.code, c.group.code, c.level) for c in gaps_get(actor=world.analyst).report()]
    assert report.index(("deutsch_b1", "jv_geduldet", "legally_required")) < report.index(
        ("deutsch_a2", "jv_geduldet", "desirable")
    )


def test_pages_roles_logging_and_drill_down(world, b1, client):
    north = DistrictFactory(name="Nord")
    mine = _with_need(6, b1, age=22, status="duldung", district=north, lead=world.lead)
    _with_need(5, b1, age=22, status="duldung", lead=world.other)  # not the lead's
    for member in (world.analyst, world.coordinator, world.team_lead):
        login(client, member)
        before = AccessLogEntry.objects.count()
        html = client.get(reverse("analytics:gaps")).content.decode()
        assert 'id="gap-report"' in html and "<svg" in html
        entry = AccessLogEntry.objects.order_by("-seq").first()
        assert AccessLogEntry.objects.count() == before + 1 and entry.person_id is None
        detail = client.get(reverse("analytics:gap_detail", args=["deutsch_b1", "jv_geduldet"]))
        assert detail.status_code == 200
        assert AccessLogEntry.objects.order_by("-seq").first().object_id == (
            "gaps:deutsch_b1:jv_geduldet"
        )
        # Only those who may see cases get the link to them.
        assert ('id="gap-cases"' in detail.content.decode()) == (member == world.team_lead)
    assert (
        client.get(reverse("analytics:gap_detail", args=["deutsch_b1", "nope"])).status_code == 404
    )
    for member in (world.case_manager, world.partner_staff, world.volunteer, world.org_admin):
        login(client, member)
        assert client.get(reverse("analytics:gaps")).status_code == 403
    # The drill-down lands on the case list, scoped as ever: the team lead's agency's
    # six cases, not the other agency's five.
    login(client, world.team_lead)
    response = client.get(
        reverse("casework:list"), {"need": "deutsch_b1", "target_group": "jv_geduldet"}
    )
    listed = {c.pk for c in response.context["page"].object_list}
    assert listed == {c.pk for c in mine}
    detail = gap_detail_get(actor=world.analyst, need_code="deutsch_b1", group_code="jv_geduldet")
    assert [c[0].value for c in detail.by_district.cells] == [6, 5]
    assert detail.by_district.col_totals[0].value == 11


def test_case_filter_needs_the_category_shared(world, b1, client):
    """A partner on the case team without consent for the need's domain does not find
    the case by the need (the filter would disclose what the page hides)."""
    (case,) = _with_need(1, b1, age=22, status="duldung", lead=world.lead)
    TeamMemberFactory(case=case, user=world.partner_staff.user, organisation=world.partner)
    consent = ConsentFactory(
        person=case.person,
        categories=["master"],
        recorded_by=world.case_manager.user,
        recorded_for=world.lead,
        receivers=[world.partner],
    )
    login(client, world.partner_staff)

    def listed(**query):
        response = client.get(reverse("casework:list"), query)
        return case.pk in {c.pk for c in response.context["page"].object_list}

    assert listed()  # the case itself is shared (master data)
    assert not listed(need="deutsch_b1")  # its needs (education) are not
    assert not listed(target_group="jv_geduldet")  # nor its residence status
    consent.categories = ["master", "education", "residence"]
    consent.save()
    assert listed(need="deutsch_b1") and listed(target_group="jv_geduldet")
    assert not listed(target_group="jv_schutz")
    login(client, world.case_manager)
    case.case_manager = world.case_manager.user
    case.save()
    response = client.get(reverse("casework:list"), {"need": "deutsch_b1"})
    assert case.pk in {c.pk for c in response.context["page"].object_list}
