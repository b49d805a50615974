from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.course_list, name="course_list"),
    path("new/", views.course_new, name="course_new"),
    path("summary/", views.summary, name="summary"),
    path("<int:pk>/", views.course_detail, name="course_detail"),
    path("<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("<int:pk>/invoice/", views.invoice, name="invoice"),
    path("<int:pk>/delegates/", views.delegates_add, name="delegates_add"),
    path("<int:pk>/register/", views.attendance, name="attendance"),
    path("<int:pk>/feedback/", views.feedback_new, name="feedback_new"),
    path("delegates/<int:pk>/", views.delegate_edit, name="delegate_edit"),
]
