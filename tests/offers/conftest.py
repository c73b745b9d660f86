"""Offers of the fixture municipality: the lead agency (KI) and the Jobcenter provide."""

from __future__ import annotations

import pytest
from django.utils import translation

ROLES = [
    "case_manager",
    "team_lead",
    "partner_staff",
    "partner_colleague",
    "outsider",
    "coordinator",
    "analyst",
    "volunteer",
    "org_admin",
    "sysadmin",
]


def membership(world, role: str):
    return world.partner_colleague if role == "partner_colleague" else world.by_role()[role]


@pytest.fixture
def offer_values():
    """Valid keyword arguments for offers.services.offer_create (without provider)."""
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    return {
        "title": "Integrationskurs am Vormittag",
        "description": "Allgemeiner Integrationskurs mit Orientierungskurs.",
        "field_of_action": "language",
        "category": "integrationskurs",
        "level": "B1",
        "statuses": [],
        "age_min": 18,
        "age_max": 27,
        "starts_on": today + dt.timedelta(days=14),
        "ends_on": today + dt.timedelta(days=200),
        "capacity": 20,
        "languages": ["de", "ar"],
        "funding": "bamf",
        "review_due": today + dt.timedelta(days=90),
    }


@pytest.fixture(autouse=True)
def english(settings):
    """The offer tests assert the English source messages; German is the default and
    its catalogue is checked by tests/test_i18n.py and the browser tests."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
