# homelog: `make run` serves a demo on http://127.0.0.1:8000, `make test` runs the whole test suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEV_ENV := DEBUG=on

.PHONY: run test fuzz lint migrate clean lock

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamp files: dependencies are installed again only when the lock files change. They come from the lock files,
# exactly as pinned and checked against their hashes; homelog itself is then installed without dependencies.
$(VENV)/.installed: requirements/base.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/base.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: requirements/dev.txt pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

# After changing the dependencies in pyproject.toml: pin them (and what they need) again.
LOCK := $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.11 --generate-hashes --quiet
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv>=0.5"
	$(LOCK) -o requirements/base.txt
	$(LOCK) --extra dev -o requirements/dev.txt

run: $(VENV)/.installed
	$(DEV_ENV) $(BIN)/python manage.py migrate --noinput
	$(DEV_ENV) $(BIN)/python manage.py createcachetable
	$(DEV_ENV) $(BIN)/python manage.py seed_demo
	$(DEV_ENV) $(BIN)/python manage.py runserver 127.0.0.1:8000

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# The API fuzzed from its OpenAPI schema (schemathesis), FUZZ_EXAMPLES cases per operation and caller.
fuzz: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m fuzz homelog/tests/test_fuzz.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(DEV_ENV) $(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var staticfiles
