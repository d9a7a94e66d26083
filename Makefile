# The two commands a newcomer runs: `make demo` and `make test`. Both set up first.
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= data/synthground
SEED ?= 0
NUM_IMAGES ?= 1500

.PHONY: setup test demo synthground lint format clean

setup:
	@bash tools/setup_env.sh

test: setup
	$(PY) -m pytest -q tests

demo: setup
	$(PY) tools/demo.py --data $(DATA) --seed $(SEED) --num-images $(NUM_IMAGES)

synthground: setup
	$(PY) tools/dataset_converters/make_synthground.py --out $(DATA) --seed $(SEED) \
		--num-images $(NUM_IMAGES)

lint: setup
	$(VENV)/bin/ruff check mmgrounding tools tests benchmarks

format: setup
	$(VENV)/bin/ruff format mmgrounding tools tests benchmarks

clean:
	rm -rf work_dirs demo_outputs
