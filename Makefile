# povwatch — the two commands a fresh machine needs: `make demo` and `make test`.
PY        ?= python3.11
VENV      := .venv
BIN       := $(VENV)/bin
STAMP     := $(VENV)/.installed
export BENTOML_DO_NOT_TRACK := true
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := true

.PHONY: install system-deps test demo bench quality mlflow-server bench-scale clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --compile-bytecode --python $(BIN)/python -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium and a CJK font for the report rendering test, PostgreSQL for the case store's tests
# (Debian packages).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -qi 'Noto Sans CJK'; then \
	  echo "installing chromium and fonts-noto-cjk"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	    || echo "warning: could not install chromium/fonts-noto-cjk; browser tests will fail"; \
	fi
	@if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then \
	  echo "installing postgresql (the case store's tests start a throw-away server)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null) \
	    || echo "warning: could not install postgresql; the case store's PostgreSQL tests will be skipped"; \
	fi

test: install system-deps
	$(BIN)/python -m pytest

demo: install
	$(BIN)/povwatch demo

bench: install
	$(BIN)/python -m bench.run_all

# Accuracy on 50k simulated households x 6 rounds: the chosen model vs baselines vs oracle, with intervals
# (docs/quality.md). A small try: make quality QUALITY_ARGS="--households 3000 --rounds 5".
quality: install
	$(BIN)/python -m bench.bench_quality $(QUALITY_ARGS)

# Ingest and score time and peak memory by county size (docs/performance.md "Scale"); sizes above 20,000
# households are listed as not run unless SCALE_MAX is raised (a province needs a machine of its own).
SCALE_SIZES ?= 2000,10000,100000,300000,1000000
SCALE_MAX   ?= 20000
bench-scale: install
	$(BIN)/python -m bench.bench_scale --households $(SCALE_SIZES) --rounds 5 --max-run $(SCALE_MAX) --write

# An MLflow tracking server over the warehouse's registry (mlflow.db, mlartifacts); then, in other shells,
# export MLFLOW_TRACKING_URI=http://127.0.0.1:$(MLFLOW_PORT)  (see docs/scale.md)
MLFLOW_PORT ?= 5000
WAREHOUSE   ?= $(or $(POVWATCH_WAREHOUSE),povwatch-data)
mlflow-server: install
	$(BIN)/python -m commands.mlflow_server --warehouse $(WAREHOUSE) --port $(MLFLOW_PORT)

clean:
	rm -rf $(VENV) povwatch-data
