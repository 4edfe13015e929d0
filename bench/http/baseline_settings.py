"""homelog's settings, serving bench/http/baseline_urls.py instead of homelog's URLs.

DJANGO_SETTINGS_MODULE=bench.http.baseline_settings gunicorn -c gunicorn.conf.py
"""

from homelog.settings import *  # noqa: F403

ROOT_URLCONF = "bench.http.baseline_urls"
