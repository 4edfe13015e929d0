"""Content negotiation: DRF's, remembering its answer for each Accept header."""

import threading

from rest_framework import negotiation


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, remembering which renderer and media type it chose for each Accept header, format
    and set of renderers: a client sends the same Accept header request after request, and parsing and
    matching it again took 4% of the instructions of an API request.

    Only choices are remembered: a header that no renderer accepts is refused (406) every time, as by DRF.
    """

    CHOICES_KEPT = 256

    _choices = {}
    _lock = threading.Lock()

    def select_renderer(self, request, renderers, format_suffix=None):
        key = (
            format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE),
            request.META.get("HTTP_ACCEPT"),
            tuple(type(renderer) for renderer in renderers),
        )
        choice = self._choices.get(key)
        if choice is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            choice = (renderers.index(renderer), media_type)
            with self._lock:
                if len(self._choices) >= self.CHOICES_KEPT:
                    self._choices.clear()  # headers of every kind, one each: nothing worth keeping
                self._choices[key] = choice
        index, media_type = choice
        return renderers[index], media_type
