from django.urls import include, path

app_name = "privacy"

urlpatterns = [
    path("", include("lotse.privacy.urls_consent_form")),
    path("", include("lotse.privacy.urls_art15")),
]
