from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("lotse.api.urls")),
    path("", include("lotse.core.urls")),
    path("cases/", include("lotse.casework.urls")),
    path("privacy/", include("lotse.privacy.urls")),
    path("eligibility/", include("lotse.eligibility.urls")),
    path("offers/", include("lotse.offers.urls")),
    path("referrals/", include("lotse.referrals.urls")),
    path("analytics/", include("lotse.analytics.urls")),
    path("network/", include("lotse.network.urls")),
]
