from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """`/api/sources` and `/api/sources/` both answer directly.

    A redirect to the slashed URL would lose the request: browsers drop the Authorization header when they
    follow one, and clients of the original service call the unslashed form.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.trailing_slash = "/?"
