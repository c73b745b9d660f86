from django.urls import path

from . import (
    views,
    views_classification,
    views_flows,
    views_gaps,
    views_goals,
    views_population,
    views_report,
)

app_name = "analytics"

urlpatterns = [
    path("", views.index, name="index"),
    path("situation/", views.situation_view, name="situation"),
    path("refresh/", views.refresh, name="refresh"),
    path("quality/", views.quality_view, name="quality"),
    path("gaps/", views_gaps.gaps, name="gaps"),
    path("gaps/<slug:need>/<slug:group>/", views_gaps.gap_detail, name="gap_detail"),
    *views_classification.urlpatterns,
    *views_goals.urlpatterns,
    *views_population.urlpatterns,
    *views_flows.urlpatterns,
    *views_report.urlpatterns,
]
