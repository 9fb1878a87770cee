# The two commands of the README: `make demo` and `make test`. Each creates .venv if missing.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
CHROMIUM := /usr/bin/chromium
PROMTOOL := /usr/bin/promtool

.PHONY: demo test install apt-deps bench lock clean

$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# The browser tests drive Debian's Chromium (headless) and the metrics tests run promtool (Debian's
# prometheus package): install both once, with one `apt-get update`.
apt-deps:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(PROMTOOL) ]; then \
		$(SUDO) apt-get update && $(SUDO) apt-get install -y chromium prometheus; fi

demo: $(STAMP)
	$(VENV)/bin/cloudscreen scan --demo

test: $(STAMP) apt-deps
	$(PY) -m ruff check engine reports frontend_server tests bench
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

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis .cloudscreen cloudscreen-out
