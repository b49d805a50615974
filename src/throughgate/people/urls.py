from django.urls import include, path

from . import views

app_name = "people"
urlpatterns = [
    path("search/", views.search, name="search"),
    path("<int:pk>/", views.person_detail, name="detail"),
    path("<int:pk>/edit/", views.person_edit, name="edit"),
    path("<int:pk>/aliases/new/", views.alias_new, name="alias_new"),
    path("aliases/<int:pk>/delete/", views.alias_delete, name="alias_delete"),
    path("<int:pk>/family/new/", views.family_new, name="family_new"),
    path("family/<int:pk>/edit/", views.family_edit, name="family_edit"),
    path("family/<int:pk>/delete/", views.family_delete, name="family_delete"),
    path("", include("throughgate.people.subject_access_urls")),
    path("", include("throughgate.people.duplicates_urls")),
    path("", include("throughgate.people.retention_urls")),
]
