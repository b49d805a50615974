from django.urls import path

from . import views

app_name = "custody"
urlpatterns = [
    path("people/<int:person_pk>/custody/new/", views.episode_new, name="episode_new"),
]
