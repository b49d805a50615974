from django.urls import path

from . import views

app_name = "outcomes"
urlpatterns = [
    path("outcomes/", views.dashboard, name="dashboard"),
    path("outcomes/recalculate/", views.recalculate, name="recalculate"),
    path("outcomes/baselines/", views.baselines, name="baselines"),
    path("outcomes/justice-data-lab/", views.jdl_export, name="jdl_export"),
    path("outcomes/evaluations/new/", views.evaluation_new, name="evaluation_new"),
    path("outcomes/evaluations/<int:pk>/", views.evaluation_report, name="evaluation"),
    path("people/<int:person_pk>/reoffending/new/", views.event_new, name="event_new"),
    path("reoffending/<int:pk>/", views.event_edit, name="event_edit"),
]
