from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("confirm-password/", views.confirm_password, name="reauth"),
    path("audit/", views.audit_trail, name="audit_trail"),
    path("healthz", views.healthz, name="healthz"),
]
