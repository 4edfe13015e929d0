"""Django's message middleware, with each request's message storage made the first time it is used.

Most requests (the API, probes, static files) never look at messages, and Django's middleware builds the
storage (a fallback storage over a cookie and a session storage) for every one of them. A storage never
used has nothing to save: leaving it out changes nothing for the messages a later request shows.
"""

from django.contrib.messages import middleware
from django.contrib.messages.storage import default_storage
from django.utils.functional import SimpleLazyObject, empty


class MessageMiddleware(middleware.MessageMiddleware):
    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    def process_response(self, request, response):
        storage = getattr(request, "_messages", None)
        if isinstance(storage, SimpleLazyObject) and storage._wrapped is empty:
            return response
        return super().process_response(request, response)
