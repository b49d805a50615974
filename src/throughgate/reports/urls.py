from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("funder/", views.funder_report, name="funder"),
    path("funder/report.csv", views.funder_csv, name="funder_csv"),
    path("funder/report.xlsx", views.funder_xlsx, name="funder_xlsx"),
    path("funder/pdf/", views.funder_pdf, name="funder_pdf"),
    path("funder/pdf/<int:pk>/", views.funder_pdf_file, name="funder_pdf_file"),
]
