FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY homelog homelog
COPY accounts accounts
COPY sources sources
COPY readings readings
COPY templates templates
COPY manage.py ./
RUN pip install --no-cache-dir . gunicorn
RUN useradd --create-home homelog
USER homelog
EXPOSE 8000
CMD ["gunicorn", "homelog.wsgi:application", "--bind", "0.0.0.0:8000"]
