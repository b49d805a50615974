from django.urls import path

from . import views

app_name = "custody"
urlpatterns = [
    path("people/<int:person_pk>/custody/new/", views.episode_new, name="episode_new"),
    path("custody/<int:pk>/", views.episode_detail, name="episode_detail"),
    path("custody/<int:pk>/dates/", views.episode_dates, name="episode_dates"),
    path("custody/<int:pk>/transfer/", views.episode_transfer, name="episode_transfer"),
    path("custody/<int:pk>/release/", views.episode_release, name="episode_release"),
    path("releases/", views.release_calendar, name="release_calendar"),
    path("cases/<int:case_pk>/plan/", views.plan_detail, name="plan_detail"),
    path("cases/<int:case_pk>/plan/start/", views.plan_create, name="plan_create"),
    path("cases/<int:case_pk>/plan/items/new/", views.plan_item_new, name="plan_item_new"),
    path("plan-items/<int:pk>/", views.plan_item_edit, name="plan_item_edit"),
    path("calendar/", views.calendar_settings, name="calendar_settings"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
]
