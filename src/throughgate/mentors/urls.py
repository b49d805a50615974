from django.urls import path

from . import views

app_name = "mentors"
urlpatterns = [
    path("mentors/", views.mentor_list, name="list"),
    path("mentors/new/", views.mentor_new, name="new"),
    path("mentors/me/", views.my_profile, name="mine"),
    path("mentors/<int:pk>/", views.mentor_detail, name="detail"),
    path("mentors/<int:pk>/edit/", views.mentor_edit, name="edit"),
    path("mentors/<int:pk>/<slug:kind>/new/", views.record_new, name="record_new"),
    path("licence-conditions/<int:pk>/end/", views.licence_end, name="licence_end"),
    path("conflicts/", views.conflict_list, name="conflicts"),
    path("conflicts/new/", views.conflict_new, name="conflict_new"),
    path("conflicts/<int:pk>/end/", views.conflict_end, name="conflict_end"),
    path("people/<int:person_pk>/matching/", views.matching_needs, name="matching_needs"),
    path("matching/", views.batch, name="batch"),
    path("matching/<int:pk>/", views.batch_detail, name="batch_detail"),
    path("matching/<int:pk>/accept/", views.batch_accept, name="batch_accept"),
    path("new-mentees/<int:pk>/seen/", views.assignment_seen, name="assignment_seen"),
]
