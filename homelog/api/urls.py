"""Every route under /api/, named "api:<thing>-<action>"."""

from django.urls import re_path
from drf_spectacular.views import SpectacularSwaggerSplitView

from accounts.api.urls import urlpatterns as accounts_urls
from homelog.api.schema import SchemaView
from readings.api.urls import urlpatterns as readings_urls
from sources.api.urls import urlpatterns as sources_urls

app_name = "api"

# Django tries the routes in this order for every request: the sources and their readings, what devices and
# clients ask for most, come first (none of these routes overlaps another group's).
urlpatterns = [
    *sources_urls,
    *readings_urls,
    *accounts_urls,
    re_path(r"^schema/?$", SchemaView.as_view(), name="schema"),
    # The split view loads its start-up script from a URL of its own: homelog's CSP allows no inline script.
    re_path(
        r"^docs/?$",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/swagger_ui.html"),
        name="docs",
    ),
]
