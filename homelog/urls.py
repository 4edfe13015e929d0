from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    # API routes
    # Page routes
    path("", include("sources.urls")),
    path("", include("readings.urls")),
    path("", include("accounts.urls")),
]

handler400 = "sources.views.bad_request"
