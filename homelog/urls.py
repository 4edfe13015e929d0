from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("admin/", admin.site.urls),
    # API routes
    path("api/", include("homelog.api.urls")),
    # Page routes
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
