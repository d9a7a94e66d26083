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

# The SynthGround detector (Faster R-CNN on the Visual Genome objects, docs/proposals.md):
# `make detector` converts the objects to COCO instances per split, trains with mmdet and
# writes the test mAP; `make proposals` also writes the region cache of every split and
# prints the proposal recall. Both resume where they stopped.
DET_CONFIG ?= configs/detectors/faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg.py
DET_NAME := $(basename $(notdir $(DET_CONFIG)))
DET_WORK_DIR ?= work_dirs/$(DET_NAME)
# the config's max_epochs, which names the final checkpoint
DET_EPOCHS ?= 10
DET_CKPT := $(DET_WORK_DIR)/epoch_$(DET_EPOCHS).pth
# one thread is faster than two when the 2 cores are shared
DET_THREADS ?= 1
DET_DATA_OPTS := --cfg-options train_dataloader.dataset.data_root=$(DATA)/ \
	val_dataloader.dataset.data_root=$(DATA)/ test_dataloader.dataset.data_root=$(DATA)/ \
	val_evaluator.ann_file=$(DATA)/detection/instances_val.json \
	test_evaluator.ann_file=$(DATA)/detection/instances_test.json
GROUNDING_DATASET ?= configs/_base_/datasets/synthground_flickr30k.py
REGION_CACHE ?= $(DATA)/regions/$(DET_NAME)

.PHONY: detector proposals

$(DATA)/meta.json: | setup
	$(PY) tools/dataset_converters/make_synthground.py --out $(DATA) --seed $(SEED) \
		--num-images $(NUM_IMAGES)

$(DATA)/detection/instances_%.json: | setup $(DATA)/meta.json
	$(PY) tools/dataset_converters/vg_to_coco_instances.py $(DATA)/vg --out $@ \
		--image-ids $(DATA)/flickr30k_entities/$*.txt --categories-from-config $(DET_CONFIG)

$(DET_CKPT): | setup $(DATA)/detection/instances_train.json \
		$(DATA)/detection/instances_val.json $(DATA)/detection/instances_test.json
	OMP_NUM_THREADS=$(DET_THREADS) $(PY) tools/train.py $(DET_CONFIG) \
		--work-dir $(DET_WORK_DIR) --resume $(DET_DATA_OPTS)

$(DET_WORK_DIR)/test_metrics.json: $(DET_CKPT)
	OMP_NUM_THREADS=$(DET_THREADS) $(PY) tools/test.py $(DET_CONFIG) $(DET_CKPT) \
		--work-dir $(DET_WORK_DIR) --metrics-json $@ $(DET_DATA_OPTS)

detector: $(DET_WORK_DIR)/test_metrics.json
	@cat $<

proposals: detector
	OMP_NUM_THREADS=$(DET_THREADS) $(PY) tools/extract_proposals.py $(DET_CONFIG) $(DET_CKPT) \
		--dataset $(GROUNDING_DATASET) --data-root $(DATA)/ --out $(REGION_CACHE) --topk 100
	$(PY) tools/analysis_tools/proposal_recall.py $(REGION_CACHE) --dataset $(GROUNDING_DATASET) \
		--data-root $(DATA)/ --split test --out $(REGION_CACHE)/recall_test.json

lint: setup
	$(VENV)/bin/ruff check mmgrounding tools tests benchmarks

format: setup
	$(VENV)/bin/ruff format mmgrounding tools tests benchmarks

clean:
	rm -rf work_dirs demo_outputs
