from django.urls import path

from . import retention_views as views

urlpatterns = [
    path("retention/", views.retention_page, name="retention"),
    path("retention/periods/", views.retention_periods, name="retention_periods"),
    path("retention/holds/new/", views.retention_hold_new, name="retention_hold_new"),
    path("retention/holds/<int:pk>/lift/", views.retention_hold_lift, name="retention_hold_lift"),
    path("retention/preview/", views.retention_preview, name="retention_preview"),
    path("retention/purge/", views.retention_purge, name="retention_purge"),
    path("retention/runs/<int:pk>/", views.retention_run, name="retention_run"),
]
