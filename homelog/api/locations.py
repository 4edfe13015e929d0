"""`Location` on every 201: the URL of what was created, as the original service's clients expect."""

from django.urls import reverse


def location(request, viewname, **kwargs):
    """{"Location": the absolute URL of the API route `viewname` with `kwargs`}, for a response's headers."""
    return {"Location": request.build_absolute_uri(reverse(f"api:{viewname}", kwargs=kwargs))}


class LocationOnCreateMixin:
    """For a router's viewset: the 201 of `create` carries the new object's detail route in `Location`."""

    def get_success_headers(self, data):
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = data["id"] if self.lookup_field == "pk" else data[self.lookup_field]
        return location(self.request, f"{self.basename}-detail", **{**self.kwargs, lookup: value})
