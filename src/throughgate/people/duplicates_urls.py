from django.urls import path

from . import duplicates_views as views

urlpatterns = [
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/review/", views.duplicate_review, name="duplicates_review"),
    path("duplicates/<int:pk>/merge/", views.merge, name="merge"),
    path("duplicates/<int:pk>/decline/", views.decline, name="duplicate_decline"),
]
