"""Printable consent forms (included by privacy/urls.py, namespace `privacy`)."""

from django.urls import path

from . import consent_form

urlpatterns = [
    path("consents/<int:pk>/form/", consent_form.consent_form, name="consent_form"),
    path(
        "cases/<int:case_pk>/consent-form/",
        consent_form.consent_form_draft,
        name="consent_form_draft",
    ),
]
