from django.urls import path

from . import views

app_name = "casework"
urlpatterns = [
    path("caseload/", views.caseload, name="caseload"),
    path("referrals/", views.referral_queue, name="referral_queue"),
    path("referrals/new/", views.referral_new, name="referral_new"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
    path("referrals/<int:pk>/accept/", views.referral_accept, name="referral_accept"),
    path("referrals/<int:pk>/decline/", views.referral_decline, name="referral_decline"),
    path("cases/", views.case_list, name="case_list"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/contacts/new/", views.contact_new, name="contact_new"),
    path("cases/<int:pk>/phase/", views.case_phase, name="case_phase"),
    path("cases/<int:pk>/mentor/", views.case_mentor, name="case_mentor"),
    path("cases/<int:pk>/close/", views.case_close, name="case_close"),
]
