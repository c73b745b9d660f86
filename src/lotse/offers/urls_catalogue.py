from django.urls import path

from . import views

urlpatterns = [
    path("", views.offer_list, name="list"),
    path("new/", views.offer_new, name="new"),
    path("<int:pk>/", views.offer_detail, name="detail"),
    path("<int:pk>/edit/", views.offer_edit, name="edit"),
    path("<int:pk>/deactivate/", views.offer_deactivate, name="deactivate"),
    path("<int:pk>/reactivate/", views.offer_reactivate, name="reactivate"),
]
