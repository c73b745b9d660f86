from django.urls import include, path

app_name = "offers"

# The catalogue, import/export and matching pages live in modules of their own.
urlpatterns = [
    path("", include("lotse.offers.urls_catalogue")),
    path("", include("lotse.offers.urls_io")),
    path("", include("lotse.offers.urls_matching")),
]
