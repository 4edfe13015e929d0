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

# Errors answer without internals; the database being away is a 503, not a 500.
handler500 = "homelog.errors.server_error"
