from django.urls import include, path

from . import views

app_name = "privacy"

urlpatterns = [
    path("cases/<int:case_pk>/consents/", views.consents, name="consents"),
    path(
        "cases/<int:case_pk>/consents/<int:pk>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<int:case_pk>/break-glass/", views.break_glass, name="break_glass"),
    path("agreements/", views.agreements, name="agreements"),
    path("agreements/new/", views.agreement_edit, name="agreement_new"),
    path("agreements/<int:pk>/", views.agreement_edit, name="agreement_edit"),
    path("", include("lotse.privacy.urls_consent_form")),
    path("", include("lotse.privacy.urls_art15")),
]
