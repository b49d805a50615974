from django.contrib.auth import views as auth_views
from django.urls import path

from . import password_views, two_factor_views, views
from .two_factor import two_factor_not_required

urlpatterns = [
    path("login/", views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", two_factor_not_required(auth_views.LogoutView.as_view()), name="logout"),
    path("two-factor/", two_factor_views.verify, name="two_factor"),
    path("two-factor/set-up/", two_factor_views.setup, name="two_factor_setup"),
    path("two-factor/recovery-codes/", two_factor_views.recovery_codes, name="two_factor_codes"),
    path("confirm-password/", views.confirm_password, name="reauth"),
    path("password/", password_views.change_password, name="change_password"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("manage/", views.manage, name="manage"),
    path("healthz", views.healthz, name="healthz"),
]
