# homelog's image. docker-compose.yml runs it with PostgreSQL and Redis; README.md, "Production", lists the
# environment it reads.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
# The dependencies first, from the lock file alone (as pinned, hashes checked), so that a change to the code
# does not reinstall them.
COPY requirements/base.txt ./requirements/
RUN pip install --require-hashes -r requirements/base.txt
COPY . .
# Static files are collected, hashed and compressed once, here; the key only lets the settings load.
RUN DEBUG=off SECRET_KEY=collectstatic-only-not-a-secret python manage.py collectstatic --noinput \
    && python -m compileall -q /app

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8000
RUN useradd --system --uid 10001 --no-create-home --home-dir /app --shell /usr/sbin/nologin homelog
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
# The code belongs to root: the app's user can read it, not change it. It writes only under var/ (the SQLite
# file, when no DATABASE_URL is given).
COPY --from=build /app /app
RUN mkdir -p /app/var && chown homelog:homelog /app/var
USER homelog
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['PORT'], timeout=2)"]
CMD ["gunicorn", "-c", "gunicorn.conf.py"]
