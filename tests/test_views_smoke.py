"""Every page renders for a user who may see it (catches template errors early)."""

import pytest
from django.urls import reverse

from lotse.casework.models import InterviewGuide


@pytest.mark.parametrize(
    "name,needs_case",
    [
        ("core:dashboard", False),
        ("casework:list", False),
        ("casework:register", False),
        ("casework:detail", True),
        ("casework:person_edit", True),
        ("casework:residence_new", True),
        ("casework:benefit_new", True),
        ("casework:phase", True),
        ("casework:team_add", True),
        ("casework:intake_new", True),
        ("casework:assessment_new", True),
        ("casework:goal_new", True),
        ("casework:plan_agree", True),
        ("casework:plan_print", True),
        ("casework:appointment_new", True),
        ("casework:note_new", True),
        ("casework:document_upload", True),
        ("casework:followup_new", True),
    ],
)
def test_page_renders_for_case_manager(world, as_member, name, needs_case):
    client = as_member(world.case_manager)
    url = reverse(name, args=[world.case.pk]) if needs_case else reverse(name)
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]


def test_guide_pages_render_for_org_admin(world, as_member):
    client = as_member(world.org_admin)
    assert client.get(reverse("casework:guides")).status_code == 200
    client.post(reverse("casework:guides"))
    guide = InterviewGuide.objects.get(organisation=world.lead)
    assert client.get(reverse("casework:question_new", args=[guide.pk])).status_code == 200
