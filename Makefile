# gcmbot: `make run` starts the bot, `make test` runs the whole suite, `make check` the fast part of it,
# `make bench` the benchmarks.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SYNAPSE_VENV := .venv-synapse
DOMAIN := gcmbot
LOCALES := locales
SOURCES := bot handlers storage

.PHONY: run test check fuzz bench install install-test catalogs extract synapse clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed catalogs
install-test: $(VENV)/.installed-test catalogs synapse

## compile the gettext catalogs (run `make extract` after changing user-facing strings)
catalogs: $(VENV)/.installed
	$(BIN)/pybabel compile -D $(DOMAIN) -d $(LOCALES) 2>&1 | grep -v '^compiling' || true

## extract messages and update every catalog in locales/ (es, en, pt, fr...); English (the source) is filled in from the ids
extract: $(VENV)/.installed
	$(BIN)/pybabel extract --no-location --sort-output -k N_ -k _ -k ngettext:1,2 \
		--project gcmbot -o $(LOCALES)/$(DOMAIN).pot $(SOURCES)
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -D $(DOMAIN) \
		-i $(LOCALES)/$(DOMAIN).pot -d $(LOCALES)
	$(BIN)/python -m locales.fill_source $(LOCALES)/en/LC_MESSAGES/$(DOMAIN).po

## a separate virtualenv with the Synapse homeserver the Matrix tests start
synapse: $(SYNAPSE_VENV)/.installed
$(SYNAPSE_VENV)/.installed:
	$(PYTHON) -m venv $(SYNAPSE_VENV)
	$(SYNAPSE_VENV)/bin/pip install --quiet --upgrade pip
	$(SYNAPSE_VENV)/bin/pip install --quiet matrix-synapse
	touch $@

run: install
	$(BIN)/gcmbot run

test: install-test
	$(BIN)/python -m pytest -q

## the fast loop while developing: everything not marked slow (no Synapse, no extra processes,
## no wheel), on CHECK_WORKERS processes (pytest-xdist), with a smaller fuzz (CHECK_FUZZ_EXAMPLES
## messages per database)
CHECK_WORKERS ?= auto
CHECK_FUZZ_EXAMPLES ?= 200
## bytecode is kept between runs (__pycache__, git-ignored) even where PYTHONDONTWRITEBYTECODE is set:
## compiling and rewriting the tests' asserts again costs each worker seconds of every run
check: install-test
	PYTHONDONTWRITEBYTECODE= FUZZ_EXAMPLES=$(CHECK_FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -m "not slow" -n $(CHECK_WORKERS)

## the property-based test of the core at full size: FUZZ_EXAMPLES messages on each database (25,000 in all)
FUZZ_EXAMPLES ?= 12500
fuzz: install-test
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/core/test_fuzz.py

bench: install-test
	$(BIN)/python bench/qa.py
	$(BIN)/python bench/telegram_throughput.py
	$(BIN)/python bench/matrix_latency.py
	$(BIN)/python bench/broadcast.py
	$(BIN)/python bench/pledge_round.py
	$(BIN)/python bench/scheduler.py
	$(BIN)/python bench/idle_rss.py
	$(BIN)/python bench/failover.py
	$(BIN)/python bench/soak.py

clean:
	rm -rf $(VENV) $(SYNAPSE_VENV) data
