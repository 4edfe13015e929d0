"""homelog settings, read from the environment (django-environ).

Production defaults are safe; development conveniences need DEBUG=on.
"""

import datetime as dt
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable "
            "(or DEBUG=on for local development, which uses a throw-away key)."
        )
    SECRET_KEY = "django-insecure-homelog-development-only"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "corsheaders",
    "django_htmx",
    "accounts",
    "sources",
    "readings",
]

MIDDLEWARE = [
    "homelog.requestlog.RequestLogMiddleware",
    "homelog.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Before anything that answers by itself (CommonMiddleware, authentication): a preflight is answered here.
    "corsheaders.middleware.CorsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "homelog.security.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "homelog.messages.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "homelog.errors.DatabaseUnavailableMiddleware",
    "homelog.ids.OutOfRangeIdMiddleware",
    "homelog.api.middleware.ReleaseAPIViewMiddleware",
]

ROOT_URLCONF = "homelog.urls"
WSGI_APPLICATION = "homelog.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# The embedded default keeps its file under the git-ignored var/ folder.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'homelog.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Django's hashers, with its default (PBKDF2-SHA256) capped in how many checks run at once on the machine,
# so that a storm of logins cannot take every core (accounts/hashers.py). Half the cores by default, 0 none.
PASSWORD_HASHERS = [
    "accounts.hashers.CappedPBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
CORES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 2
PASSWORD_CHECKS_AT_ONCE = env.int("PASSWORD_CHECKS_AT_ONCE", default=max(1, CORES // 2))
# The routes that check a password: refused before Django while every slot is taken (homelog/wsgi.py).
PASSWORD_CHECK_PATHS = ["/api/auth/login", "/login", "/account/sign-in/", "/admin/login/"]
# Where the slots of homelog.capacity live: a directory every worker of the machine shares (by default one in
# the system's temporary directory, per installation).
CAPACITY_LOCK_DIR = env.str("CAPACITY_LOCK_DIR", default="")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")

# --- REST API --------------------------------------------------------------------------------------------

REST_FRAMEWORK = {
    # JWT first: its "WWW-Authenticate: Bearer" challenge is what makes DRF answer 401 rather than 403.
    # Sessions let homelog's own pages call the API (with CSRF).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": ["homelog.api.renderers.ORJSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "homelog.api.negotiation.ContentNegotiation",
    "DEFAULT_PARSER_CLASSES": ["homelog.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "homelog.api.pagination.LimitOffsetLinkPagination",
    "DEFAULT_FILTER_BACKENDS": ["homelog.api.filters.FilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "homelog.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    # Proxies in front of homelog that set X-Forwarded-For; the client address limits failed logins.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
}
# Failed logins allowed per email and per client address in one window, counted in the default cache.
LOGIN_FAILURE_RATE = env.str("LOGIN_FAILURE_RATE", default="5/min")

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": dt.timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=30)),
    "REFRESH_TOKEN_LIFETIME": dt.timedelta(days=env.int("JWT_REFRESH_DAYS", default=14)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    # Tokens carry a hash of the password hash: a new password invalidates every token issued before it.
    "CHECK_REVOKE_TOKEN": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "homelog API",
    "DESCRIPTION": "Households, their meters and sensors, and the readings taken from them.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/api",
    "SCHEMA_COERCE_PATH_PK_SUFFIX": True,
    "COMPONENT_SPLIT_REQUEST": True,
    # Docstrings are written for homelog's developers (what a class keeps, which context it reads): the
    # schema's descriptions come from extend_schema(description=...), extend_schema_serializer and help_text.
    "DISABLE_DOCSTRING_DESCRIPTIONS": True,
    # The interactive docs are served from the installed package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "homelog.api.schema.add_error_responses",
    ],
}

# --- Ingestion -------------------------------------------------------------------------------------------

# The largest body POST /api/sources/{id}/readings/bulk reads; a larger one is refused with 413 before any
# parsing. 10,000 readings with ids and a few metrics take about 1.5 MB of JSON.
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=8 * 1024 * 1024)
# The most readings one bulk request may carry.
INGEST_MAX_BATCH = env.int("INGEST_MAX_BATCH", default=10_000)

# --- Usage -----------------------------------------------------------------------------------------------

# One request may ask for at most this many buckets (a year of days is 366, two months of hours 1,464).
USAGE_MAX_BUCKETS = env.int("USAGE_MAX_BUCKETS", default=2000)
# Cached usage is dropped as soon as a source's readings change; this only bounds what an idle cache keeps.
USAGE_CACHE_SECONDS = env.int("USAGE_CACHE_SECONDS", default=24 * 3600)
# Without start and end, usage covers this many buckets up to and including the current one.
USAGE_DEFAULT_BUCKETS = {"hour": 24, "day": 30, "week": 12, "month": 12, "year": 5}

# --- Pages -----------------------------------------------------------------------------------------------

# The pages' own stylesheet and icons; every package's static files are found as well.
STATICFILES_DIRS = [BASE_DIR / "static"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "readings:home"
LOGOUT_REDIRECT_URL = "accounts:login"
# Password-reset mail goes to the console unless EMAIL_URL names a server (smtp+tls://user:pass@host:587).
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="homelog <homelog@localhost>")
# A source counts as quiet when its newest reading is older than this many of its recent reading
# intervals (and at least STALE_AFTER_MIN_HOURS): an hourly sensor is quiet after a day, a gas meter
# read by hand every week after three weeks.
STALE_AFTER_INTERVALS = env.int("STALE_AFTER_INTERVALS", default=3)
STALE_AFTER_MIN_HOURS = env.int("STALE_AFTER_MIN_HOURS", default=24)
# The largest CSV file the import page takes; bigger files go through `manage.py import_readings`.
PAGES_IMPORT_MAX_BYTES = env.int("PAGES_IMPORT_MAX_BYTES", default=10 * 1024 * 1024)
# Prices are plain numbers; this symbol is written before costs on the pages (e.g. "€", "$", "CHF ").
CURRENCY_SYMBOL = env.str("CURRENCY_SYMBOL", default="")

# --- Cache and shared state ------------------------------------------------------------------------------

# Every worker process and every app instance must see the same cache: rate-limit counters live there, and a
# per-process cache would let each worker count logins on its own. Redis when there is one; otherwise a table
# in the database (`manage.py createcachetable`, which `make run` and the Docker set-up run).
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's backend, keeping its redis client (homelog/cache.py).
            "BACKEND": "homelog.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="homelog"),
            # Fail fast rather than hold a worker until gunicorn's timeout when Redis is away.
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "homelog_cache",
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="homelog"),
            # Django's default of 300 entries would cull the usage versions of a few hundred sources, and
            # with them every cached usage: a row is small, and expired rows are culled all the same.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }
# Seconds the bearer-token check may take a user from the cache instead of the database; a change to the user
# drops the entry at once (accounts/authentication.py). Off without Redis: the database cache would only
# trade one query for another.
JWT_USER_CACHE_SECONDS = env.int("JWT_USER_CACHE_SECONDS", default=300 if REDIS_URL else 0)
# How long a process trusts its reading of the user cache's epoch, which moves when a change to a user could
# not reach Redis: after an outage, an entry made before such a change is trusted at most this long.
USER_CACHE_EPOCH_SECONDS = env.float("USER_CACHE_EPOCH_SECONDS", default=1.0)


# --- Serving, security and logging -----------------------------------------------------------------------

# Database connections outlive a request: either each worker thread keeps its own (CONN_MAX_AGE), or, with
# DATABASE_POOL=on, the threads of a worker process share a psycopg pool. Either way a connection is
# checked before it is reused, so a restarted database is noticed without restarting homelog. bench/http
# measures both.
DATABASE_POOL = env.bool("DATABASE_POOL", default=False)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["CONN_MAX_AGE"] = 0 if DATABASE_POOL else env.int("CONN_MAX_AGE", default=600)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, reading timestamps with psycopg's C loader (homelog/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = "homelog.postgresql"
    # Without a bound, an unreachable database host holds a worker until gunicorn's timeout.
    connect_timeout_seconds = env.int("DATABASE_CONNECT_TIMEOUT", default=5)
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = connect_timeout_seconds
    # The server binds the parameters, so that a statement run again and again (every list, every page) is
    # prepared once per connection and not planned again: planning the readings list's access check was most
    # of PostgreSQL's work for a page (bench/http). Behind PgBouncer in transaction mode, prepared statements
    # need its max_prepared_statements, or DATABASE_PREPARE_THRESHOLD=0.
    prepare_threshold = env.int("DATABASE_PREPARE_THRESHOLD", default=5)
    DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
    DATABASES["default"]["OPTIONS"]["prepare_threshold"] = prepare_threshold or None
    if DATABASE_POOL:
        DATABASES["default"]["OPTIONS"]["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
            "timeout": connect_timeout_seconds,
        }

# Static files are served by the app itself (WhiteNoise): hashed names, compressed, cached for ever.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# HTTPS means homelog is reached over TLS, directly or through a proxy that sets X-Forwarded-Proto. Turn it
# off only to serve plain HTTP on a trusted home network (`check --deploy` will then say so).
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("HSTS_SECONDS", default=365 * 24 * 3600) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("HSTS_PRELOAD", default=True)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# Clients served from other origins (a dashboard on another host) may call the API, and only the API, with
# a bearer token: no cookies are shared with them. Empty by default: the API answers its own pages only.
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api(/.*)?$"
CORS_ALLOW_HEADERS = ("accept", "authorization", "content-type")
CORS_EXPOSE_HEADERS = ("Link", "Retry-After", "WWW-Authenticate")

# Only homelog's own scripts, styles and images; no inline code, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Everything goes to stdout, one line per request from homelog.requestlog. Django's own per-request warnings
# (404s and the like) would repeat those lines, so only its errors are kept.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {
        "stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "plain"}
    },
    "root": {"handlers": ["stdout"], "level": env.str("LOG_LEVEL", default="INFO").upper()},
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        "django.request": {"level": "ERROR"},
        # A request with a Host homelog does not serve is a 400 in its request line, not an error with a
        # traceback: scanners send them all day.
        "django.security.DisallowedHost": {"level": "CRITICAL"},
        "django.server": {"level": "ERROR"},
    },
}
