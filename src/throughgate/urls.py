from django.urls import include, path

from throughgate.casework import views as casework_views

urlpatterns = [
    path("", casework_views.home, name="home"),
    path("", include("throughgate.accounts.urls")),
    path("", include("throughgate.core.urls")),
    path("", include("throughgate.casework.urls")),
    path("", include("throughgate.custody.urls")),
    path("", include("throughgate.mentors.urls")),
    path("", include("throughgate.outcomes.urls")),
    path("people/", include("throughgate.people.urls")),
    path("reports/", include("throughgate.reports.urls")),
    path("prevention/", include("throughgate.prevention.urls")),
    path("training/", include("throughgate.prevention.training.urls")),
    path("imports/", include("throughgate.imports.urls")),
    path("api/", include("throughgate.api.urls")),
]
