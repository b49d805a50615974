from django.urls import path

from . import subject_access_views as views

urlpatterns = [
    path("<int:pk>/subject-access/", views.subject_access, name="subject_access"),
    path(
        "<int:pk>/subject-access/download/",
        views.subject_access_download,
        name="subject_access_download",
    ),
]
