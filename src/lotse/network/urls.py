from django.urls import path

from . import views

app_name = "network"

urlpatterns = [
    path("", views.directory, name="directory"),
    path("responsibilities/", views.responsibilities, name="responsibilities"),
    path("responsibilities/new/", views.responsibility_new, name="responsibility_new"),
    path("responsibilities/<int:pk>/edit/", views.responsibility_edit, name="responsibility_edit"),
    path(
        "responsibilities/<int:pk>/delete/",
        views.responsibility_delete,
        name="responsibility_delete",
    ),
    path("pathways/", views.pathways, name="pathways"),
    path("organisations/<int:org>/contacts/new/", views.contact_new, name="contact_new"),
    path("contacts/<int:pk>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
]
