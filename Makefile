# mmboundary: the two set-up commands are `make demo` and `make test`.
# Both build or refresh the environment first (idempotent, see
# tools/misc/setup_env.sh).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: env demo test lint format gpu-check device-wheels

env:
	MMB_VENV=$(abspath $(VENV)) bash tools/misc/setup_env.sh

demo: env
	$(PY) tools/misc/run_main_job.py

test: env lint
	$(PY) -m pytest tests $(PYTEST_ARGS)

lint: env
	$(PY) -m flake8 mmboundary tools tests configs projects setup.py
	$(PY) -m isort --check-only --diff mmboundary tools tests configs projects setup.py
	$(PY) -m yapf --diff --recursive mmboundary tools tests configs projects setup.py
	$(VENV)/bin/codespell mmboundary tools tests configs projects README.md

format: env
	$(PY) -m isort mmboundary tools tests configs projects setup.py
	$(PY) -m yapf -i --recursive mmboundary tools tests configs projects setup.py

# One device check on a GPU: CUDA parity, AMP, papers'-scale cost
# (docs/gpu.md). device-wheels fetches the offline wheels into .whl/.
# Uses the project's venv when there is one, else python3 (a GPU machine's
# own environment).
GPU_PY ?= $(if $(wildcard $(PY)),$(PY),python3)
gpu-check:
	$(GPU_PY) tools/analysis_tools/gpu_check.py --device cuda

device-wheels:
	bash tools/misc/fetch_device_wheels.sh
