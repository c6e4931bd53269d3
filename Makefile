# jingce (精测) — the two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
EXTRAS ?= dev,postgres,live,spark,web

.PHONY: demo test test-fast lint bench bench-store fuzz clean venv

# $(call install,EXTRAS,STAMP-PREFIX): the venv with those extras, marked by the target stamp
define install
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[$(1)]"
	rm -f $(VENV)/$(2)*
	touch $@
endef

$(STAMP): pyproject.toml
	$(call install,$(EXTRAS),.installed-)

venv: $(STAMP)

## make demo: build the demo region into ./jingce-data (reused on a second run) and serve it on
## http://127.0.0.1:8000 in demo mode (embedded default; only the extras the service needs)
DEMO_STAMP := $(VENV)/.demo-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
DEMO_EXTRAS := web,live
$(DEMO_STAMP): pyproject.toml
	$(call install,$(DEMO_EXTRAS),.demo-)

demo: $(DEMO_STAMP)
	$(VENV)/bin/jingce demo --data ./jingce-data --serve --host 127.0.0.1 --port 8000

## make test: the whole test suite (unit, property, integration; PostgreSQL when JINGCE_TEST_PG_URL is set)
test: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check src tests bench
	$(PY) -m pytest -n 2 --dist loadgroup -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -x -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/ruff check src tests bench

## long runs kept out of `make test`
bench: $(STAMP)
	$(PY) bench/run_all.py

fuzz: $(STAMP)
	JINGCE_FUZZ_EXAMPLES=100000 $(PY) -m pytest -q -m fuzz tests

clean:
	rm -rf $(VENV) jingce-data .pytest_cache .hypothesis
