from django.urls import path

from . import views_io

urlpatterns = [
    path("export/", views_io.offer_export, name="export"),
    path("import/", views_io.offer_import, name="import"),
    path("import/confirm/", views_io.offer_import_confirm, name="import_confirm"),
]
