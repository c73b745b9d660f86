from django.urls import path

from . import rules_views, views

app_name = "eligibility"

urlpatterns = [
    path("cases/<int:case_pk>/", views.case_eligibility, name="case"),
    path("cases/<int:case_pk>/facts/", views.facts_edit, name="facts"),
    path("rules/", rules_views.rules, name="rules"),
]
