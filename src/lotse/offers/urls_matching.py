from django.urls import path

from . import views_matching

urlpatterns = [
    path("cases/<int:case_pk>/matches/", views_matching.matches, name="matches"),
]
