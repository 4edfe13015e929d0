"""Every route of the API, walked from the URLconf, so that tests of what all routes share cover new ones."""

import re

from django.urls import URLPattern, URLResolver, get_resolver

INTEGER_GROUP = re.compile(r"\(\?P<(\w+)>\[0-9\]\+\)")
ANY_GROUP = re.compile(r"\(\?P<(\w+)>((?:[^()]|\([^()]*\))*)\)")


def api_routes(patterns=None, prefix=""):
    """(regex of the whole path, name) of every route under /api/."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        regex = prefix + str(pattern.pattern).lstrip("^")
        if isinstance(pattern, URLResolver):
            yield from api_routes(pattern.url_patterns, regex)
        elif isinstance(pattern, URLPattern) and regex.startswith("api/"):
            yield regex, pattern.name


def path_of(regex, ids, other):
    """The path of the route `regex`: each integer group replaced by ``ids[name]``, any other group (a
    reading's UUID) by `other`."""

    def value(match):
        return ids[match.group(1)] if match.group(2) == "[0-9]+" else other

    path = ANY_GROUP.sub(value, regex)
    return "/" + path.replace("/?$", "").replace("\\.", ".").rstrip("$")
