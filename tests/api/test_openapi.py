"""The OpenAPI document and the JSON answers outside the operations."""

from __future__ import annotations

from django.test import Client

PATHS = {
    "/api/v1/persons": {"get", "post"},
    "/api/v1/persons/{person_id}": {"get", "patch"},
    "/api/v1/persons/{person_id}/eligibility": {"get"},
    "/api/v1/eligibility": {"post"},
    "/api/v1/offers": {"get"},
    "/api/v1/offers/{offer_id}": {"get"},
    "/api/v1/persons/{person_id}/matches": {"get"},
    "/api/v1/persons/{person_id}/residence-statuses": {"get", "post"},
    "/api/v1/persons/{person_id}/residence-statuses/{entry_id}/correction": {"post"},
    "/api/v1/persons/{person_id}/benefits": {"get", "post"},
    "/api/v1/persons/{person_id}/benefits/{entry_id}/correction": {"post"},
    "/api/v1/cases": {"get"},
    "/api/v1/cases/{case_id}": {"get", "patch"},
    "/api/v1/cases/{case_id}/reopen": {"post"},
    "/api/v1/cases/{case_id}/team": {"get", "post"},
    "/api/v1/cases/{case_id}/team/{member_id}": {"delete"},
    "/api/v1/cases/{case_id}/plan": {"get"},
    "/api/v1/cases/{case_id}/plan/goals": {"post"},
    "/api/v1/cases/{case_id}/plan/goals/{goal_id}": {"patch"},
    "/api/v1/cases/{case_id}/plan/goals/{goal_id}/steps": {"post"},
    "/api/v1/cases/{case_id}/plan/steps/{step_id}": {"patch"},
    "/api/v1/cases/{case_id}/plan/agree": {"post"},
    "/api/v1/cases/{case_id}/appointments": {"get", "post"},
    "/api/v1/cases/{case_id}/appointments/{appointment_id}": {"patch"},
    "/api/v1/cases/{case_id}/notes": {"get", "post"},
    "/api/v1/cases/{case_id}/followups": {"get", "post"},
    "/api/v1/cases/{case_id}/followups/{followup_id}/done": {"post"},
    "/api/v1/referrals": {"get"},
    "/api/v1/referrals/{referral_id}": {"get"},
    "/api/v1/referrals/{referral_id}/send": {"post"},
    "/api/v1/referrals/{referral_id}/withdraw": {"post"},
    "/api/v1/referrals/{referral_id}/accept": {"post"},
    "/api/v1/referrals/{referral_id}/waitlist": {"post"},
    "/api/v1/referrals/{referral_id}/reject": {"post"},
    "/api/v1/referrals/{referral_id}/start": {"post"},
    "/api/v1/cases/{case_id}/referrals": {"post"},
    "/api/v1/cases/{case_id}/chain": {"get"},
    "/api/v1/cases/{case_id}/participations": {"get", "post"},
    "/api/v1/participations/{participation_id}/attendance": {"post"},
    "/api/v1/participations/{participation_id}/end": {"post"},
    "/api/v1/careers/flags": {"get"},
    "/api/v1/careers/flags/{flag_id}": {"get"},
    "/api/v1/careers/flags/{flag_id}/resolve": {"post"},
    "/api/v1/careers/counts": {"get"},
    "/api/v1/analytics/situation": {"get"},
    "/api/v1/analytics/gaps": {"get"},
    "/api/v1/analytics/flows": {"get"},
    "/api/v1/analytics/quality": {"get"},
    "/api/v1/analytics/goals": {"get"},
    "/api/v1/analytics/report": {"get"},
    "/api/v1/analytics/monitoring": {"get"},
    "/api/v1/network/organisations": {"get"},
    "/api/v1/network/responsibilities": {"get"},
    "/api/v1/network/pathways": {"get"},
}


def test_openapi_document_lists_every_path_with_bearer_security(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "lotse API" and doc["info"]["version"] == "1"
    assert {path: set(ops) for path, ops in doc["paths"].items()} == PATHS
    schemes = doc["components"]["securitySchemes"]
    assert any(s["type"] == "http" and s["scheme"] == "bearer" for s in schemes.values())
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            where = f"{method} {path}"
            assert operation.get("security"), where
            assert operation.get("description"), where  # from the docstring
            assert "401" in operation["responses"], where
            if method != "get":
                assert "422" in operation["responses"], where


def test_openapi_document_names_the_codes(db):
    doc = Client().get("/api/v1/openapi.json").json()
    schemas = doc["components"]["schemas"]
    assert "duldung" in schemas["ResidenceStatus"]["enum"]
    assert "asylblg_3" in schemas["BenefitRegime"]["enum"]
    assert "closed" in schemas["Phase"]["enum"]
    assert "waitlisted" in schemas["ReferralStatus"]["enum"]
    assert "no_place" in schemas["RejectReason"]["enum"]
    assert "completed_certificate" in schemas["Outcome"]["enum"]
    assert "motivation" in schemas["AbortReason"]["enum"]


def test_docs_page_is_served(db):
    assert Client().get("/api/v1/docs").status_code == 200


def test_unknown_api_paths_answer_json_404(api, world):
    for path in ("/nothing-here", f"/cases/{world.case.pk}/unknown"):
        response = api.get(path, "case_manager")
        assert response.status_code == 404
        assert response.json()["detail"]


def test_ids_that_are_not_numbers_are_422_per_field(api, world):
    response = api.get("/cases/abc", "case_manager")
    assert response.status_code == 422
    assert "case_id" in response.json()["errors"]


def test_access_log_entries_carry_channel_and_request_id(api, world, tokens, log):
    response = api.client.get(
        f"/api/v1/cases/{world.case.pk}",
        headers={"Authorization": f"Bearer {tokens['case_manager']}", "X-Request-ID": "req-42"},
    )
    assert response.status_code == 200 and response["X-Request-ID"] == "req-42"
    (entry,) = log.entries()
    assert entry.channel == "api" and entry.request_id == "req-42"
