from django.contrib import admin
from django.urls import include, path, re_path

from accounts.api.auth import OAuth2LoginView

urlpatterns = [
    path("admin/", admin.site.urls),
    # API routes
    path("api/", include("homelog.api.urls")),
    re_path(r"^login/?$", OAuth2LoginView.as_view(), name="oauth2-login"),
    # Page routes
    path("", include("sources.urls")),
    path("", include("readings.urls")),
    path("", include("accounts.urls")),
]

handler400 = "homelog.errors.bad_request"
handler404 = "homelog.errors.page_not_found"

# Errors answer without internals; the database being away is a 503, not a 500.
handler500 = "homelog.errors.server_error"
