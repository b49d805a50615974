from django.urls import path

from . import views

app_name = "prevention"
urlpatterns = [
    path("schools/", views.venue_list, name="venue_list"),
    path("schools/new/", views.venue_new, name="venue_new"),
    path("schools/<int:pk>/", views.venue_detail, name="venue_detail"),
    path("schools/<int:pk>/edit/", views.venue_edit, name="venue_edit"),
    path("workshops/", views.workshop_list, name="workshop_list"),
    path("workshops/new/", views.workshop_new, name="workshop_new"),
    path("workshops/<int:pk>/", views.workshop_detail, name="workshop_detail"),
    path("workshops/<int:pk>/edit/", views.workshop_edit, name="workshop_edit"),
    path("workshops/<int:pk>/delete/", views.workshop_delete, name="workshop_delete"),
    path("workshops/<int:pk>/survey/", views.survey_counts, name="survey_counts"),
    path(
        "workshops/<int:pk>/survey/sheets/new/",
        views.survey_response_new,
        name="survey_response_new",
    ),
    path("reach/", views.reach, name="reach"),
    path("reach/csv/", views.reach_csv, name="reach_csv"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/topics/new/", views.topic_new, name="topic_new"),
    path("settings/topics/<int:pk>/", views.topic_edit, name="topic_edit"),
    path("settings/questions/new/", views.question_new, name="question_new"),
    path("settings/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path("settings/target/", views.target_edit, name="target_edit"),
]
