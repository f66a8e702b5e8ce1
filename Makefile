# UniPulse: `make run` to try it, `make test` to check it. Only Python 3.11 is needed.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
ENV_FILE ?= $(CURDIR)/.env

.PHONY: install run test lint check migrate superuser clean bench faults e2e dev-env demo

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dev-env: install  ## the development .env (DEBUG, generated SECRET_KEY and ENCRYPTION_KEY kept across runs, PORT)
	@PORT=$(PORT) $(BIN)/python -m unipulse.devenv $(ENV_FILE)

migrate: dev-env
	ENV_FILE=$(ENV_FILE) $(BIN)/python manage.py migrate --noinput

run: migrate  ## web + background worker + periodic commands; embedded defaults unless DATABASE_URL and REDIS_URL are set
	@echo ""
	@echo "UniPulse is starting on http://127.0.0.1:$(PORT)/  (admin: http://127.0.0.1:$(PORT)/admin/, API docs: http://127.0.0.1:$(PORT)/api/v1/docs/)"
	@echo "Create a login with: $(BIN)/python manage.py createsuperuser    Stop with Ctrl-C."
	@echo ""
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo "Using DATABASE_URL and REDIS_URL: running the Procfile's web, worker and scheduler processes"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" ENV_FILE=$(ENV_FILE) DEBUG=$${DEBUG:-true} PORT=$(PORT) $(BIN)/honcho start -f Procfile web worker scheduler; \
	else \
		if [ -n "$$DATABASE_URL" ]; then echo "Embedded mode: DATABASE_URL, in-process broker and scheduler"; \
		else echo "Embedded mode: SQLite ($(CURDIR)/db.sqlite3), in-process broker and scheduler"; fi; \
		ENV_FILE=$(ENV_FILE) PORT=$(PORT) DEBUG=$${DEBUG:-true} EMBEDDED_SCHEDULER=true $(BIN)/python manage.py runserver 127.0.0.1:$(PORT) --noreload; \
	fi

test: install  ## the whole suite (uses DATABASE_URL / REDIS_URL when set)
	$(BIN)/python -m pytest

faults: install  ## fault suite: private PostgreSQL/Redis servers stopped and restarted under load
	$(BIN)/python -m pytest -m faults tests/faults

e2e: install  ## end to end over HTTP: gunicorn + worker + sandbox platforms, OAuth to replies, via the public API
	bash .ci/services
	$(BIN)/python -m pytest -m e2e tests/e2e

lint: install
	$(BIN)/ruff check .

check: install
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py check
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py makemigrations --check --dry-run


# The demo is the sandbox's: switched on here (its app, tables and `demo` command exist only when it is on),
# whatever the .env says; with DEBUG off the settings refuse it in one line.
demo: dev-env  ## sandbox accounts, one post of each kind published, a sync, a comment and a DM; run again safely
	ENV_FILE=$(ENV_FILE) SOCIAL_SANDBOX=true $(BIN)/python manage.py migrate --noinput
	ENV_FILE=$(ENV_FILE) PORT=$(PORT) SOCIAL_SANDBOX=true $(BIN)/python manage.py demo

superuser: migrate  ## asks on a terminal; without one, reads DJANGO_SUPERUSER_USERNAME, _EMAIL and _PASSWORD
	@if [ -n "$$DJANGO_SUPERUSER_USERNAME" ] || [ ! -t 0 ]; then \
		ENV_FILE=$(ENV_FILE) $(BIN)/python manage.py createsuperuser --noinput; \
	else \
		ENV_FILE=$(ENV_FILE) $(BIN)/python manage.py createsuperuser; \
	fi

clean:
	rm -rf $(VENV) *.egg-info

bench: install  ## benchmarks on PostgreSQL + Redis (not part of make test); BENCH_ARGS=--docs writes the table into docs/operations.md
	bash .ci/services
	DEBUG=true DATABASE_URL=$${BENCH_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/unipulse_bench} \
		REDIS_URL=$${BENCH_REDIS_URL:-redis://127.0.0.1:6379/9} $(BIN)/python -m benchmarks.run $(BENCH_ARGS)
