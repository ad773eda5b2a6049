# Everyday commands. `make run` and `make test` set everything up from a fresh clone.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
# pytest workers of `make test` (pytest-xdist): one per core; TEST_WORKERS=0 runs the tests in one process.
TEST_WORKERS ?= auto
export FLASK_APP := wsgi.py

.PHONY: setup install translations compile-translations run test lint e2e bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when pyproject.toml changed (the stamp file records the last install).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

compile-translations: install
	$(BIN)/pybabel -q compile -d app/translations

# Development mode for the local demo: a fixed development secret is used unless SECRET_KEY is set.
setup: install compile-translations
	FLASK_DEBUG=$${FLASK_DEBUG:-1} $(BIN)/flask db upgrade
	FLASK_DEBUG=$${FLASK_DEBUG:-1} $(BIN)/flask demo seed

run: setup
	@FLASK_DEBUG=$${FLASK_DEBUG:-1} BASE_URL=$${BASE_URL:-http://$(HOST):$(PORT)} $(BIN)/flask demo accounts
	@echo "Serving on http://$(HOST):$(PORT)/"
	FLASK_DEBUG=$${FLASK_DEBUG:-1} $(BIN)/flask run --host $(HOST) --port $(PORT)

# Extract every UI string, merge into each catalogue, compile.
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k _ -k N_ -k NP_:1c,2 --no-location --sort-output \
		-o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/python -m app.i18n_catalogues fill-source en
	$(BIN)/pybabel compile -d app/translations
	$(BIN)/python -m app.i18n_catalogues check

lint: install
	$(BIN)/ruff check .

test: install compile-translations lint
	$(BIN)/python -m pytest -n $(TEST_WORKERS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$status

e2e: install compile-translations
	$(BIN)/python -m pytest -m e2e

bench: setup
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
	find app/translations -name '*.mo' -delete
