# lotse — the two commands: `make demo` and `make test`. Everything else is a helper.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYSTAMP := $(VENV)/.installed-$(shell cat requirements/dev.lock pyproject.toml | cksum | cut -d' ' -f1)
NODESTAMP := node_modules/.installed-$(shell cat package-lock.json | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install demo test lint typecheck check messages chromium clean

$(PYSTAMP):
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
		|| { echo "lotse needs Python >= 3.11 (set PY=python3.11)"; exit 1; }
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements/dev.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

$(NODESTAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -f node_modules/.installed-*
	touch $@

install: $(PYSTAMP) $(NODESTAMP)

## Set everything up and run the demo on the embedded SQLite database.
demo: install
	$(BIN)/lotse demo

## Browser tests need Debian's chromium; install it when we may (root), else they skip.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

## Run the whole test suite (DATABASE_URL selects the database; default SQLite).
test: install chromium
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests

typecheck: install
	$(BIN)/mypy

check: lint typecheck test

## Refresh the German catalogue after changing source strings (needs GNU gettext).
messages: install
	cd src/lotse && ../../$(BIN)/django-admin makemessages -l de --no-obsolete \
		--settings=lotse.config.settings.dev --ignore='migrations/*'
	msgfmt --check -o src/lotse/locale/de/LC_MESSAGES/django.mo src/lotse/locale/de/LC_MESSAGES/django.po

clean:
	rm -rf $(VENV) node_modules var/test-*
