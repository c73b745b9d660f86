"""Casework through the pages: what a case manager does, and what bad input does."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from lotse.casework import services
from lotse.casework.models import (
    Appointment,
    Assessment,
    Case,
    Document,
    FollowUp,
    Intake,
    Note,
    PlanVersion,
)
from lotse.core.models import AccessLogEntry, NeedType
from lotse.people.models import Person, ResidenceStatusPeriod

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

REGISTER = {
    "family_name": "Yousef",
    "given_names": "Ahmad",
    "birth_date": "2004-03-02",
    "gender": "male",
    "nationality": "SY",
    "other_family_1": "يوسف",
    "other_given_1": "أحمد",
    "language_1": "ar",
    "level_1": "native",
    "language_2": "de",
    "level_2": "A2",
}


def test_register_opens_case_led_by_acting_org(world, as_member):
    client = as_member(world.case_manager)
    response = client.post(reverse("casework:register"), REGISTER)
    assert response.status_code == 302
    person = Person.objects.get(family_name="Yousef")
    case = Case.objects.get(person=person)
    assert case.lead_organisation == world.lead and case.case_manager == world.case_manager.user
    assert case.phase == "intake" and hasattr(case, "plan")
    assert person.languages.count() == 2 and person.other_names.count() == 1
    assert AccessLogEntry.objects.filter(person_id=person.pk, action="create").exists()
    # Found in the list by the Arabic spelling.
    body = client.get(reverse("casework:list"), {"q": "يوسف"}).content.decode()
    assert "Yousef, Ahmad" in body


def test_register_warns_about_duplicates_and_needs_confirmation(world, as_member):
    client = as_member(world.case_manager)
    data = dict(
        REGISTER,
        family_name="Hadad",
        given_names="Muhammad",
        birth_date=world.case.person.birth_date.isoformat(),
    )
    response = client.post(reverse("casework:register"), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Haddad, Mohammed" in body
    assert Person.objects.filter(family_name="Hadad").count() == 0
    response = client.post(reverse("casework:register"), dict(data, confirm_not_duplicate="on"))
    assert response.status_code == 302
    assert Person.objects.filter(family_name="Hadad").count() == 1


def test_register_bad_input_shows_field_errors_and_writes_nothing(world, as_member):
    client = as_member(world.case_manager)
    before = Person.objects.count(), Case.objects.count()
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    for bad in (
        {"birth_date": "31.02.2004"},
        {"birth_date": future},
        {"nationality": "QQ"},
        {"gender": "unknown"},
        {"language_2": "de", "level_2": ""},
        {"family_name": ""},
    ):
        response = client.post(reverse("casework:register"), dict(REGISTER, **bad))
        assert response.status_code == 200, bad
        assert 'class="kern-error"' in response.content.decode(), bad
        assert 'aria-invalid="true"' in response.content.decode(), bad
    assert (Person.objects.count(), Case.objects.count()) == before


def test_main_path_assessment_goal_step_appointment(world, as_member):
    client = as_member(world.case_manager)
    pk = world.case.pk
    need = NeedType.objects.get(code="deutsch_b1")
    r = client.post(
        reverse("casework:assessment_new", args=[pk]),
        {
            "assessed_on": timezone.localdate().isoformat(),
            "summary": "Motiviert",
            "life_domain": "language",
            "kind": "need",
            "description": "B1 für Ausbildung",
            "need_type": need.pk,
            "priority": "high",
        },
    )
    assert r.status_code == 302
    assessment = Assessment.objects.get(case=world.case)
    assert assessment.items.get().need_type == need
    r = client.post(
        reverse("casework:goal_new", args=[pk]),
        {
            "life_domain": "work",
            "title": "Ausbildung zur Pflegefachkraft beginnen",
            "target_date": (timezone.localdate() + dt.timedelta(days=200)).isoformat(),
        },
    )
    assert r.status_code == 302
    goal = world.case.plan.goals.get()
    r = client.post(
        reverse("casework:step_new", args=[pk, goal.pk]),
        {
            "title": "Bewerbungsunterlagen erstellen",
            "responsible_organisation": world.partner.pk,
            "due_date": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        },
    )
    assert r.status_code == 302
    r = client.post(
        reverse("casework:appointment_new", args=[pk]),
        {
            "starts_at": (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "purpose": "Beratung Ausbildung",
            "organisation": world.lead.pk,
            "status": "planned",
        },
    )
    assert r.status_code == 302
    world.case.refresh_from_db()
    assert world.case.phase == "planning"
    body = client.get(reverse("casework:detail", args=[pk])).content.decode()
    for text in (
        "B1 für Ausbildung",
        "Ausbildung zur Pflegefachkraft beginnen",
        "Bewerbungsunterlagen erstellen",
        "Beratung Ausbildung",
    ):
        assert text in body


def test_need_without_type_or_priority_is_rejected_at_the_field(world, as_member):
    client = as_member(world.case_manager)
    r = client.post(
        reverse("casework:assessment_new", args=[world.case.pk]),
        {
            "assessed_on": timezone.localdate().isoformat(),
            "life_domain": "language",
            "kind": "need",
            "description": "x",
        },
    )
    assert r.status_code == 422
    body = r.content.decode()
    assert 'id="id_need_type_error"' in body and 'id="id_priority_error"' in body
    assert not Assessment.objects.exists()


def test_plan_agreement_versions_are_kept(world, as_member):
    actor, case = world.case_manager, world.case
    goal = services.plan_goal_add(actor=actor, case=case, life_domain="language", title="B1")
    client = as_member(actor)
    today = timezone.localdate().isoformat()
    assert (
        client.post(
            reverse("casework:plan_agree", args=[case.pk]), {"agreed_on": today}
        ).status_code
        == 302
    )
    # Same plan, same day again: a duplicate submission is refused.
    r = client.post(reverse("casework:plan_agree", args=[case.pk]), {"agreed_on": today})
    assert r.status_code == 422
    services.plan_goal_update(actor=actor, goal=goal, title="B2")
    assert (
        client.post(
            reverse("casework:plan_agree", args=[case.pk]), {"agreed_on": today}
        ).status_code
        == 302
    )
    versions = list(PlanVersion.objects.filter(plan__case=case).order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].snapshot["goals"][0]["title"] == "B1"
    assert versions[1].snapshot["goals"][0]["title"] == "B2"
    body = client.get(reverse("casework:plan_version", args=[case.pk, 1])).content.decode()
    assert "B1" in body
    assert client.get(reverse("casework:plan_version", args=[case.pk, 9])).status_code == 404


def test_note_visibility_between_organisations(world, as_member):
    services.note_create(actor=world.case_manager, case=world.case, text="Nur für KI")
    services.note_create(
        actor=world.case_manager, case=world.case, text="Für das Team", visibility="case_team"
    )
    body = (
        as_member(world.partner_staff)
        .get(reverse("casework:detail", args=[world.case.pk]))
        .content.decode()
    )
    assert "Für das Team" in body and "Nur für KI" not in body


def test_duplicate_note_submission_is_refused(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:note_new", args=[world.case.pk])
    data = {"text": "Termin beim Jobcenter vereinbart", "visibility": "organisation"}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 422
    assert Note.objects.count() == 1


def test_partner_can_contribute_but_not_edit(world, as_member):
    client = as_member(world.partner_staff)
    pk = world.case.pk
    r = client.post(
        reverse("casework:note_new", args=[pk]),
        {"text": "Bewerbung läuft", "visibility": "case_team"},
    )
    assert r.status_code == 302
    r = client.post(reverse("casework:goal_new", args=[pk]), {"life_domain": "work", "title": "x"})
    assert r.status_code == 403
    assert not world.case.plan.goals.exists()


def test_outsider_posts_change_nothing(world, as_member):
    client = as_member(world.outsider)
    pk = world.case.pk
    r = client.post(
        reverse("casework:note_new", args=[pk]), {"text": "x", "visibility": "case_team"}
    )
    assert r.status_code == 404
    r = client.post(
        reverse("casework:phase", args=[pk]), {"phase": "closed", "closing_reason": "other"}
    )
    assert r.status_code == 404
    world.case.refresh_from_db()
    assert world.case.phase == "intake" and not Note.objects.exists()


def test_timeline_new_and_correct_through_pages(world, as_member):
    client = as_member(world.case_manager)
    pk = world.case.pk
    r = client.post(
        reverse("casework:residence_new", args=[pk]),
        {"status": "ausbildungsduldung", "valid_from": "2025-08-01", "work_permission": "allowed"},
    )
    assert r.status_code == 302
    r = client.post(
        reverse("casework:residence_new", args=[pk]),
        {
            "status": "ae_16g",
            "valid_from": "2025-01-01",
            "valid_to": "2025-12-31",
            "work_permission": "allowed",
        },
    )
    assert r.status_code == 422 and 'id="id_valid_from_error"' in r.content.decode()
    r = client.post(
        reverse("casework:residence_new", args=[pk]),
        {"status": "nonsense", "valid_from": "2026-01-01", "work_permission": "allowed"},
    )
    assert r.status_code == 422 and 'id="id_status_error"' in r.content.decode()
    current = ResidenceStatusPeriod.objects.get(
        person=world.case.person, status="ausbildungsduldung"
    )
    r = client.post(
        reverse("casework:residence_correct", args=[pk, current.pk]),
        {
            "status": "ausbildungsduldung",
            "valid_from": "2025-09-01",
            "work_permission": "allowed",
            "correction_reason": "Datum laut Bescheid",
        },
    )
    assert r.status_code == 302
    body = client.get(reverse("casework:detail", args=[pk])).content.decode()
    assert "Datum laut Bescheid" in body


def test_close_case_requires_reason(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:phase", args=[world.case.pk])
    r = client.post(url, {"phase": "closed"})
    assert r.status_code == 422 and 'id="id_closing_reason_error"' in r.content.decode()
    r = client.post(url, {"phase": "closed", "closing_reason": "goals_achieved"})
    assert r.status_code == 302
    world.case.refresh_from_db()
    assert world.case.is_closed and world.case.closed_on == timezone.localdate()
    # Closed cases accept no more casework.
    assert client.get(reverse("casework:note_new", args=[world.case.pk])).status_code == 403


def test_intake_from_guide(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:intake_new", args=[world.case.pk])
    r = client.post(url, {"conducted_on": timezone.localdate().isoformat()})
    assert r.status_code == 422  # required questions unanswered
    assert not Intake.objects.exists()
    r = client.post(
        url,
        {
            "conducted_on": timezone.localdate().isoformat(),
            "school_years": "9",
            "school_certificate": "Mittelschule / 9–10 Jahre",
            "goals_short": "Ausbildung finden",
            "support_needs": ["Deutsch lernen", "Ausbildung"],
            "certificate_documents": "yes",
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    intake = Intake.objects.get()
    answers = {a["key"]: a["value"] for a in intake.answers}
    assert answers["school_years"] == 9 and answers["certificate_documents"] is True
    assert answers["support_needs"] == ["Deutsch lernen", "Ausbildung"]
    world.case.refresh_from_db()
    assert world.case.phase == "assessment"


def test_document_upload_checks_content_and_size(world, as_member):
    client = as_member(world.case_manager)
    url = reverse("casework:document_upload", args=[world.case.pk])
    fake = SimpleUploadedFile(
        "bescheid.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    r = client.post(url, {"doc_type": "asylbescheid", "title": "Bescheid", "file": fake})
    assert r.status_code == 422 and 'id="id_file_error"' in r.content.decode()
    good = SimpleUploadedFile("bescheid.pdf", PDF, content_type="application/octet-stream")
    r = client.post(url, {"doc_type": "asylbescheid", "title": "Bescheid", "file": good})
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.content_type == "application/pdf" and doc.size == len(PDF)
    again = SimpleUploadedFile("kopie.pdf", PDF)
    r = client.post(url, {"doc_type": "asylbescheid", "title": "Kopie", "file": again})
    assert r.status_code == 422 and Document.objects.count() == 1
    with override_settings(DOCUMENT_MAX_BYTES=10):
        big = SimpleUploadedFile("gross.pdf", PDF + b"x")
        r = client.post(url, {"doc_type": "zeugnis", "title": "Groß", "file": big})
        assert r.status_code == 422 and Document.objects.count() == 1


def test_document_download_is_scoped_and_logged(world, as_member):
    doc = services.document_upload(
        actor=world.case_manager,
        case=world.case,
        doc_type="zeugnis",
        title="Zeugnis",
        upload=SimpleUploadedFile("z.pdf", PDF),
    )
    url = reverse("casework:document_download", args=[world.case.pk, doc.pk])
    r = as_member(world.partner_staff).get(url)
    assert r.status_code == 200 and b"".join(r.streaming_content) == PDF
    assert r["Content-Disposition"].startswith("attachment")
    assert AccessLogEntry.objects.filter(action="download", object_id=str(doc.pk)).exists()
    assert as_member(world.outsider).get(url).status_code == 404
    assert as_member(world.coordinator).get(url).status_code == 403
    # Not reachable through another case id either.
    other = reverse("casework:document_download", args=[world.foreign_case.pk, doc.pk])
    assert as_member(world.outsider).get(other).status_code == 404


def test_followup_done_with_htmx_returns_fragment(world, as_member):
    followup = services.followup_create(
        actor=world.case_manager, case=world.case, title="Pass prüfen", due_on=timezone.localdate()
    )
    client = as_member(world.case_manager)
    r = client.post(
        reverse("casework:followup_done", args=[world.case.pk, followup.pk]), HTTP_HX_REQUEST="true"
    )
    assert r.status_code == 200 and b"<li" in r.content and b"<html" not in r.content
    followup.refresh_from_db()
    assert followup.done_by == world.case_manager.user
    # Another organisation's staff cannot tick it off.
    f2 = services.followup_create(
        actor=world.case_manager, case=world.case, title="Zweite", due_on=timezone.localdate()
    )
    r = as_member(world.partner_staff).post(
        reverse("casework:followup_done", args=[world.case.pk, f2.pk])
    )
    assert r.status_code == 403
    assert FollowUp.objects.get(pk=f2.pk).done_at is None


def test_case_list_htmx_partial_and_filters(world, as_member):
    client = as_member(world.case_manager)
    r = client.get(reverse("casework:list"), {"status": "duldung"}, HTTP_HX_REQUEST="true")
    body = r.content.decode()
    assert "<html" not in body and "Haddad, Mohammed" in body
    r = client.get(reverse("casework:list"), {"status": "gestattung"})
    assert "Haddad, Mohammed" not in r.content.decode()
    r = client.get(reverse("casework:list"), {"birth_date": "2003-05-17"})
    assert "Haddad, Mohammed" in r.content.decode()
    r = client.get(reverse("casework:list"), {"organisation": world.partner.pk})
    assert "Haddad, Mohammed" in r.content.decode()
    r = client.get(reverse("casework:list"), {"birth_date": "kein Datum"})
    assert r.status_code == 200


def test_appointment_update_by_other_org_is_denied(world, as_member):
    appointment = services.appointment_create(
        actor=world.case_manager,
        case=world.case,
        purpose="Erstberatung",
        starts_at=timezone.now() + dt.timedelta(days=1),
    )
    r = as_member(world.partner_staff).post(
        reverse("casework:appointment_edit", args=[world.case.pk, appointment.pk]),
        {
            "starts_at": "2030-01-01T10:00",
            "purpose": "geändert",
            "organisation": world.lead.pk,
            "status": "held",
        },
    )
    assert r.status_code == 403
    assert Appointment.objects.get(pk=appointment.pk).purpose == "Erstberatung"


def test_household_links_only_persons_in_scope(world, as_member):
    from lotse.people.services import household_link

    from .factories import CaseFactory

    sister = CaseFactory(
        lead_organisation=world.lead,
        case_manager=world.case_manager.user,
        person__family_name="Haddad",
        person__given_names="Lina",
        person__gender="female",
    )
    client = as_member(world.case_manager)
    url = reverse("casework:household", args=[world.case.pk])
    body = client.get(url, {"q": "Haddad"}).content.decode()
    assert "Haddad, Lina" in body and "Haddad, Mohammed (" not in body
    # Persons outside the scope are not offered and cannot be posted.
    assert "Rahimi, Zahra" not in client.get(url, {"q": "Rahimi"}).content.decode()
    r = client.post(url, {"q": "Rahimi", "other": world.foreign_case.person_id, "role": "sibling"})
    assert r.status_code == 422
    r = client.post(
        url, {"q": "Haddad", "other": sister.person_id, "role": "sibling", "other_role": "sibling"}
    )
    assert r.status_code == 302
    world.case.person.refresh_from_db()
    sister.person.refresh_from_db()
    assert world.case.person.household_id == sister.person.household_id is not None
    body = client.get(reverse("casework:detail", args=[world.case.pk])).content.decode()
    assert "Lina Haddad" in body
    # The foreign authority's person in the same household stays invisible to the KI.
    import pytest
    from django.http import Http404

    with pytest.raises(Http404):
        household_link(
            actor=world.case_manager,
            person=world.case.person,
            other=world.foreign_case.person,
            role="sibling",
        )
    foreign = world.foreign_case.person
    foreign.household_id = sister.person.household_id
    foreign.save()
    body = client.get(reverse("casework:detail", args=[world.case.pk])).content.decode()
    assert "Rahimi" not in body
    assert AccessLogEntry.objects.filter(object_type="household", action="update").exists()
