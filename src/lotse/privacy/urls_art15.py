"""The Art. 15 GDPR report (included by privacy/urls.py, namespace `privacy`)."""

from django.urls import path

from . import views_art15

urlpatterns = [
    path("cases/<int:case_pk>/art15/", views_art15.art15, name="art15"),
    path("cases/<int:case_pk>/art15.json", views_art15.art15_json, name="art15_json"),
]
