# The two commands of the README: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# checkov ships a module named hcl2 that clashes with python-hcl2: it lives in a virtualenv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium
PROMTOOL := /usr/bin/promtool

.PHONY: demo test install apt-deps bench lock lock-checkov clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

$(CHECKOV_STAMP): deploy/checkov/requirements.lock
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r deploy/checkov/requirements.lock
	touch $(CHECKOV_STAMP)

# The browser tests drive Debian's Chromium (headless) and the metrics tests run promtool (Debian's
# prometheus package): install both once, with one `apt-get update`.
apt-deps:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(PROMTOOL) ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium prometheus; fi

# The whole product on one machine: emulator + demo estate, a local Ray, the front; console at /dev.
demo: $(STAMP)
	$(VENV)/bin/cloudscreen demo

test: $(STAMP) $(CHECKOV_STAMP) apt-deps
	$(PY) -m ruff check engine reports frontend_server tests bench deploy
	$(PY) -m mypy
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) bench/scan_bench.py
	$(PY) bench/big_account_bench.py
	$(PY) bench/report_bench.py

# Re-pin the whole dependency tree after changing pyproject.toml.
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet -e '.[test]'
	.venv-lock/bin/pip freeze --exclude-editable | grep -v '^cloudscreen' > requirements.lock
	rm -rf .venv-lock

lock-checkov:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet checkov==3.3.30
	{ sed -n '1,2p' deploy/checkov/requirements.lock; .venv-lock/bin/pip freeze; } > deploy/checkov/requirements.lock.new
	mv deploy/checkov/requirements.lock.new deploy/checkov/requirements.lock
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) .pytest_cache .hypothesis .cloudscreen cloudscreen-out
