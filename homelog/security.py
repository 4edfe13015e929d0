"""The Content-Security-Policy header: django-csp's middleware, with homelog's policy built once."""

import functools
import http

from csp import middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view sets on its response to change the policy (django-csp's decorators).
_POLICY_CHANGES = tuple(
    f"_csp_{change}{suffix}" for change in ("config", "update", "replace") for suffix in ("", "_ro")
)


@functools.cache
def _site_policies():
    """(header, policy, what exempts a response, the path prefixes excluded) for each policy set."""
    policies = []
    for header, setting, exempt, report_only in (
        (HEADER, "CONTENT_SECURITY_POLICY", "_csp_exempt", False),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", "_csp_exempt_ro", True),
    ):
        policy = build_policy(report_only=report_only)
        if policy:
            prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
            policies.append((header, policy, exempt, prefixes))
    return policies


@receiver(setting_changed, dispatch_uid="homelog.security.setting_changed")
def _policy_changed(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        _site_policies.cache_clear()


class CSPMiddleware(middleware.CSPMiddleware):
    """django-csp's middleware, giving the site's policy, built once, to every response that keeps it.

    django-csp builds both headers anew for each response from the settings, in case its view changed the
    policy or used a nonce: 6% of the instructions of an API request. Responses that did either still go
    through django-csp's own path.
    """

    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, change, None) is not None for change in _POLICY_CHANGES
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (
            http.HTTPStatus.INTERNAL_SERVER_ERROR,
            http.HTTPStatus.NOT_FOUND,
        ):
            return response  # Django's debug pages have inline scripts and styles
        for header, policy, exempt, excluded_prefixes in _site_policies():
            if (
                header not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(excluded_prefixes)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header was written would not be in it.
        request.csp_nonce = middleware.CheckableLazyObject(self._csp_nonce_post_response)
        return response
