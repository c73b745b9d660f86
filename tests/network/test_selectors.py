"""The responsibility matrix (gaps, duplicates) and the pathway finder."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from lotse.network import selectors
from lotse.network.models import Responsibility
from lotse.people.models import TargetGroup

from .conftest import group


def _tg(code: str, groups: list[str], low: int | None, high: int | None) -> TargetGroup:
    return TargetGroup(code=code, name=code, status_groups=groups, age_min=low, age_max=high)


def test_matching_target_groups_is_pure():
    groups = [
        _tg("jv_geduldet", ["tolerated"], 18, 27),
        _tg("jv_asyl", ["asylum"], 18, 27),
        _tg("ab_28", [], 28, None),
        _tg("all", [], None, None),
    ]
    codes = [g.code for g in selectors.matching_target_groups(groups, "duldung", 22)]
    assert codes == ["jv_geduldet", "all"]
    codes = [g.code for g in selectors.matching_target_groups(groups, "ausbildungsduldung", 28)]
    assert codes == ["ab_28", "all"]
    assert [g.code for g in selectors.matching_target_groups(groups, "gestattung", 17)] == ["all"]


def test_field_for_need():
    assert selectors.field_for_need("schulabschluss", "education") == "education"
    assert selectors.field_for_need("ausbildungsplatz", "work") == "training"
    assert selectors.field_for_need("arbeitsplatz", "work") == "work"
    assert selectors.field_for_need("aufenthaltsperspektive", "residence") == "counselling"
    assert selectors.field_for_need("x", "unknown") == "counselling"


def test_matrix_build_flags_gaps_and_duplicates():
    g = _tg("g", [], None, None)
    g.pk = 1
    rs = [
        Responsibility(target_group_id=1, field_of_action="education", role="A"),
        Responsibility(target_group_id=1, field_of_action="education", role="B"),
        Responsibility(target_group_id=1, field_of_action="training", role="A"),
        Responsibility(target_group_id=1, field_of_action="training", role=" "),
        Responsibility(target_group_id=1, field_of_action="work", role=""),
    ]
    fields = [("education", "E"), ("training", "T"), ("work", "W"), ("housing", "H")]
    m = selectors.matrix_build([g], fields, rs)
    cells = {c.field_of_action: c for c in m.cells}
    assert not cells["education"].gap and not cells["education"].duplicate  # roles agreed
    assert cells["training"].duplicate and not cells["training"].gap
    assert not cells["work"].duplicate and not cells["work"].gap  # alone, role or not
    assert cells["housing"].gap and not cells["housing"].duplicate
    assert [c.field_of_action for c in m.gaps] == ["housing"]
    assert [c.field_of_action for c in m.duplicates] == ["training"]


def test_matrix_from_the_database(world, directory):
    m = selectors.matrix(actor=world.case_manager)
    assert len(m.rows) == TargetGroup.objects.filter(is_active=True).count()
    assert len(m.rows[0].cells) == 8
    cells = {(c.target_group.code, c.field_of_action): c for c in m.cells}
    education = cells[("jv_geduldet", "education")]
    assert {r.organisation for r in education.responsibilities} == {
        directory.school,
        directory.jmd,
    }
    assert not education.gap and not education.duplicate
    assert cells[("jv_geduldet", "training")].duplicate
    assert cells[("jv_geduldet", "housing")].gap
    assert cells[("jv_asyl", "education")].gap


def test_pathway_duldung_22_school_leaving_certificate(world, directory):
    p = selectors.pathway(
        actor=world.case_manager, status="duldung", age=22, need_code="schulabschluss"
    )
    assert p.field_of_action == "education"
    assert [g.code for g in p.target_groups] == ["jv_geduldet"]
    orgs = [e.organisation for e in p.entries]
    assert set(orgs) == {directory.school, directory.jmd}
    assert directory.vhs not in orgs  # responsible only for 28 and older
    school = next(e for e in p.entries if e.organisation == directory.school)
    assert school.contacts == [directory.school_contact]  # the contact named
    assert school.roles == ["Hauptschulabschluss"]
    jmd = next(e for e in p.entries if e.organisation == directory.jmd)
    assert jmd.contacts == [directory.jmd_contact]  # none named: the organisation's
    assert not p.gap


def test_pathway_for_28_finds_the_adult_offer_and_gaps(world, directory):
    p = selectors.pathway(
        actor=world.case_manager, status="duldung", age=30, need_code="schulabschluss"
    )
    assert [e.organisation for e in p.entries] == [directory.vhs]
    p = selectors.pathway(actor=world.case_manager, status="duldung", age=22, field="housing")
    assert p.gap and p.entries == []


def test_pathway_bad_input_by_field(world, directory):
    with pytest.raises(ValidationError) as exc:
        selectors.pathway(actor=world.case_manager, status="nope", age=-1, need_code="nope")
    assert set(exc.value.message_dict) == {"status", "age", "need"}
    with pytest.raises(ValidationError) as exc:
        selectors.pathway(actor=world.case_manager, status="duldung", age=20)
    assert set(exc.value.message_dict) == {"need"}
    with pytest.raises(ValidationError) as exc:
        selectors.pathway(actor=world.case_manager, status="duldung", age=20, field="x")
    assert set(exc.value.message_dict) == {"field"}


@pytest.mark.parametrize("role", ["volunteer", "sysadmin"])
def test_roles_without_the_perm_read_nothing(world, directory, role):
    actor = world.by_role()[role]
    with pytest.raises(PermissionDenied):
        selectors.directory(actor=actor)
    with pytest.raises(PermissionDenied):
        selectors.matrix(actor=actor)
    with pytest.raises(PermissionDenied):
        selectors.pathway(actor=actor, status="duldung", age=22, field="education")


def test_directory_search(world, directory):
    names = {o.name for o in selectors.directory(actor=world.partner_staff, q="Bildungsgang")}
    assert names == {"Berufskolleg Lotsenstadt"}  # found by its contact
    names = {o.name for o in selectors.directory(actor=world.partner_staff, q="lotsenstadt")}
    assert directory.vhs.name in names and directory.jmd.name in names
    assert group("jv_geduldet")  # the seeded groups are there
