import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "homelog.settings")

application = get_wsgi_application()

from django.conf import settings  # noqa: E402

from accounts.hashers import BUSY, PASSWORD_CHECK  # noqa: E402
from homelog.capacity import RefuseWhenBusy  # noqa: E402
from homelog.chunked import ChunkedBodyMiddleware  # noqa: E402 — needs the settings

application = RefuseWhenBusy(
    ChunkedBodyMiddleware(application),
    kind=PASSWORD_CHECK,
    slots=settings.PASSWORD_CHECKS_AT_ONCE,
    paths=settings.PASSWORD_CHECK_PATHS,
    message=BUSY,
)
