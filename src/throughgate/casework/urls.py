from django.urls import path

from . import safeguarding_views, support_views, views

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
    # Holistic support.
    path("cases/<int:pk>/support/", support_views.support_plan, name="support_plan"),
    path("cases/<int:pk>/needs/", support_views.needs_assess, name="needs_assess"),
    path("needs/<int:pk>/", support_views.need_update, name="need_update"),
    path("cases/<int:pk>/actions/new/", support_views.action_new, name="action_new"),
    path("actions/<int:pk>/done/", support_views.action_done, name="action_done"),
    path("cases/<int:pk>/id/new/", support_views.id_new, name="id_new"),
    path("id-applications/<int:pk>/", support_views.id_edit, name="id_edit"),
    path("cases/<int:pk>/bank/new/", support_views.bank_new, name="bank_new"),
    path("bank-applications/<int:pk>/", support_views.bank_edit, name="bank_edit"),
    path("cases/<int:pk>/onward/new/", support_views.onward_new, name="onward_new"),
    path("onward-referrals/<int:pk>/", support_views.onward_detail, name="onward_detail"),
    path(
        "cases/<int:pk>/questionnaires/<slug:key>/",
        support_views.instrument_new,
        name="instrument_new",
    ),
    path("agencies/", support_views.agency_list, name="agency_list"),
    path("agencies/new/", support_views.agency_new, name="agency_new"),
    # Safeguarding concerns, the lead's queue, a person's chronology; risk checks.
    path("safeguarding/", safeguarding_views.safeguarding_queue, name="safeguarding_queue"),
    path(
        "people/<int:person_pk>/safeguarding/new/",
        safeguarding_views.concern_new,
        name="concern_new",
    ),
    path(
        "people/<int:person_pk>/safeguarding/",
        safeguarding_views.safeguarding_chronology,
        name="safeguarding_chronology",
    ),
    path("concerns/<int:pk>/", safeguarding_views.concern_detail, name="concern_detail"),
    path("concerns/<int:pk>/triage/", safeguarding_views.concern_triage, name="concern_triage"),
    path(
        "concerns/<int:pk>/actions/new/",
        safeguarding_views.concern_action_new,
        name="concern_action_new",
    ),
    path("concerns/<int:pk>/mash/", safeguarding_views.concern_mash, name="concern_mash"),
    path("concerns/<int:pk>/nrm/", safeguarding_views.concern_nrm, name="concern_nrm"),
    path("concerns/<int:pk>/close/", safeguarding_views.concern_close, name="concern_close"),
    path(
        "cases/<int:pk>/risk-checks/new/", safeguarding_views.risk_check_new, name="risk_check_new"
    ),  # fmt: skip
]
