from django.urls import path

from . import views

app_name = "imports"
urlpatterns = [
    path("", views.index, name="index"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/columns/", views.mapping, name="mapping"),
    path("runs/<int:pk>/import/", views.commit, name="commit"),
]
