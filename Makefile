# UniPulse: `make run` to try it, `make test` to check it. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint check migrate superuser clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --noinput

run: migrate  ## web + background worker on the embedded defaults (SQLite, in-process broker)
	@echo ""
	@echo "UniPulse is starting on http://127.0.0.1:8000/  (admin: http://127.0.0.1:8000/admin/, API docs: http://127.0.0.1:8000/api/v1/docs/)"
	@echo "Create a login with: $(BIN)/python manage.py createsuperuser"
	@echo ""
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py runserver 127.0.0.1:8000

test: install  ## the whole suite (uses DATABASE_URL / REDIS_URL when set)
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .

check: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py check
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py makemigrations --check --dry-run

bench: install  ## API calls of one analytics sync vs the per-post approach (mocked platforms)
	$(BIN)/python benchmarks/analytics_sync.py

superuser: migrate
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py createsuperuser

clean:
	rm -rf $(VENV) *.egg-info
