# The two commands a newcomer runs: `make demo` and `make test`. Both set up first.
VENV ?= .venv
PY := $(VENV)/bin/python
DATA ?= data/synthground
SEED ?= 0
NUM_IMAGES ?= 1500
# the SynthGround build (docs/synthground.md): v2, the default, or v1 (the 9-shape build)
PRESET ?= v2
# Everything derived from a build lives per build: its inputs under $(DATA)/ (region cache,
# vocabularies, masked LM, negatives, word caches, paraphrases, CAM classifier) and its work
# dirs under $(BUILD_WORK_DIRS): work_dirs/ for the default folder (data/synthground, the
# paths the existing results were measured with), work_dirs/<DATA>/ for any other
# (work_dirs/data/synthground-seed1/). The tools read the build through --data-root /
# --synthground-root $(DATA)/ (a no-op for data/synthground, whose paths the configs spell).
DATA_DIR := $(patsubst %/,%,$(DATA))
BUILD_WORK_DIRS := work_dirs$(if $(filter data/synthground,$(DATA_DIR)),,/$(DATA_DIR))

.PHONY: setup test demo synthground lint format clean

# CONSTRAINTS=requirements/constraints.txt: every pip install of the setup takes the exact
# releases of the tested environment (docs/get_started.md, reproducible installs)
CONSTRAINTS ?=

setup:
	@VENV="$(VENV)" CONSTRAINTS="$(CONSTRAINTS)" bash tools/setup_env.sh

# the suite in TEST_JOBS processes of one thread each (pytest-xdist; TEST_JOBS=0: one process,
# the torch default threads); the slowest tests are listed at the end
TEST_JOBS ?= 2
test: setup
	$(if $(filter 0,$(TEST_JOBS)),$(PY) -m pytest -q --durations=15 tests,\
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -n $(TEST_JOBS) --durations=15 tests)

demo: setup
	$(PY) tools/demo.py --data $(DATA) --seed $(SEED) --num-images $(NUM_IMAGES) --preset $(PRESET)

synthground: setup
	$(PY) tools/dataset_converters/make_synthground.py --out $(DATA) --seed $(SEED) \
		--num-images $(NUM_IMAGES) --preset $(PRESET)

# The SynthGround detector (Faster R-CNN on the Visual Genome objects, docs/proposals.md):
# `make detector` converts the objects to COCO instances per split, trains with mmdet and
# writes the test mAP; `make proposals` also writes the region cache of every split and
# prints the proposal recall. Both resume where they stopped.
# (its classes are the build's categories: PRESET=v1 takes the v1 config, 9 shapes)
DET_DEFAULT := faster-rcnn_r18-c32_fpn_1xb8-10e_synthground-vg
DET_CONFIG ?= configs/detectors/$(if $(filter v1,$(PRESET)),$(DET_DEFAULT:-vg=-v1-vg),$(DET_DEFAULT)).py
DET_NAME := $(basename $(notdir $(DET_CONFIG)))
DET_WORK_DIR ?= $(BUILD_WORK_DIRS)/$(DET_NAME)
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
# v2's ReferIt split of its own has images of its own: `make proposals` caches them too
REFERIT_DATASET ?= configs/_base_/datasets/synthground_referit_v2.py
# the folder the grounding configs read, whichever detector config wrote it
REGION_CACHE ?= $(DATA)/regions/$(DET_DEFAULT)

.PHONY: detector proposals vocab

# the build's WordPiece vocabulary, which every SynthGround grounder config's tokenizer reads
# (make demo and make leaderboard also write it when it is missing; the method inputs below
# depend on it so that `tools/train.py CONFIG` runs after them)
VOCAB := $(DATA)/vocab.txt
$(VOCAB): | setup $(DATA)/meta.json
	$(PY) tools/dataset_converters/train_wordpiece.py $(DATA) --out $@
vocab: $(VOCAB)

$(DATA)/meta.json: | setup
	$(PY) tools/dataset_converters/make_synthground.py --out $(DATA) --seed $(SEED) \
		--num-images $(NUM_IMAGES) --preset $(PRESET)

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
	$(if $(filter v1,$(PRESET)),,OMP_NUM_THREADS=$(DET_THREADS) $(PY) tools/extract_proposals.py \
		$(DET_CONFIG) $(DET_CKPT) --dataset $(REFERIT_DATASET) --data-root $(DATA)/ \
		--out $(REGION_CACHE) --topk 100 --split-prefix referit_)
	$(PY) tools/analysis_tools/proposal_recall.py $(REGION_CACHE) --dataset $(GROUNDING_DATASET) \
		--data-root $(DATA)/ --split test --out $(REGION_CACHE)/recall_test.json

# InfoGround on SynthGround (docs/methods/infoground.md). `make infoground-inputs` trains the
# small masked LM that stands in for bert-base-uncased, writes the negatives of the three
# Table 2 modes and caches the frozen word features; `make infoground` then trains the four
# Table 2 rows at seed 0 through the experiment runner (two at a time, one thread each, with
# live progress) and prints them beside the detector-score baseline. Every step resumes or is
# skipped when its output exists.
IG_DIR := $(DATA)/infoground
IG_MODES ?= reranked plausible random
# the oracle-filtered diagnostic row's inputs (empty: not made)
IG_ORACLE ?= yes
IG_ROWS := no-negatives random plausible reranked
IG_CONFIG := configs/infoground/infoground_mlm-tiny_1xb50-400it_synthground
IG_WORK_DIR ?= $(BUILD_WORK_DIRS)/infoground
IG_CAPTIONS := $(DATA)/coco/annotations/captions_train.json

.PHONY: infoground-inputs infoground

$(IG_DIR)/mlm/config.json: | setup $(DATA)/meta.json
	OMP_NUM_THREADS=1 $(PY) tools/train_text_mlm.py --data-root $(DATA)/ --out $(IG_DIR)/mlm

infoground-inputs: proposals $(VOCAB) $(IG_DIR)/mlm/config.json
	for mode in $(IG_MODES); do \
		OMP_NUM_THREADS=1 $(PY) tools/generate_negatives.py $(IG_DIR)/mlm --mode $$mode \
			--captions $(IG_CAPTIONS) --out $(IG_DIR)/negatives_$${mode}_train.json && \
		OMP_NUM_THREADS=1 $(PY) tools/cache_word_features.py $(IG_CONFIG)-$$mode.py \
			--negatives $(IG_DIR)/negatives_$${mode}_train.json \
			--out $(IG_DIR)/words_$${mode}_train/ --synthground-root $(DATA)/ || exit 1; \
	done
	# the oracle-filtered diagnostic row (its config's header): the reranked negatives without
	# the substitutes that name an object of the image, and their word cache
	$(if $(IG_ORACLE),OMP_NUM_THREADS=1 $(PY) tools/analysis_tools/negatives_in_image.py \
		$(IG_DIR)/negatives_reranked_train.json --objects $(DATA)/vg/objects.json \
		--out $(IG_DIR)/negatives_reranked-oracle_train.json)
	$(if $(IG_ORACLE),OMP_NUM_THREADS=1 $(PY) tools/cache_word_features.py \
		$(IG_CONFIG)-reranked-oracle.py --negatives $(IG_DIR)/negatives_reranked-oracle_train.json \
		--out $(IG_DIR)/words_reranked-oracle_train/ --synthground-root $(DATA)/)

infoground: infoground-inputs
	$(PY) tools/analysis_tools/leaderboard.py --only detector-score \
		$(foreach row,$(IG_ROWS),infoground-$(row)) --seeds 0 --work-dir $(IG_WORK_DIR) \
		--out $(IG_WORK_DIR)/table2.json --no-docs --jobs 2 --threads 1 $(LB_BUILD)

# `make reir` (docs/methods/reir.md): ReIR's relation classes and caption words, then the rows
# of its Table 2 and Table 3 on SynthGround through the leaderboard (seeds 0-2, 300 iterations
# each; finished trainings are reused): results/synthground.json and the tables of the page.
# REIR_ONLY=reir-baseline (a registry name or table) runs less.
REIR_DIR := $(DATA)/reir
REIR_ONLY ?= reir-table2 reir-table3

.PHONY: reir-inputs reir

reir-inputs: proposals $(VOCAB)
	$(PY) tools/build_relation_vocab.py $(GROUNDING_DATASET) --out $(REIR_DIR)/relation_vocab.txt \
		--min-count 100 --word-vocab-out $(REIR_DIR)/caption_vocab.txt --data-root $(DATA)/

reir: reir-inputs
	$(PY) tools/analysis_tools/leaderboard.py --only $(REIR_ONLY) --jobs 1 --threads 1 $(LB_BUILD)

# `make leaderboard` (docs/leaderboard.md): every number of the docs' generated tables from
# nothing, in three parts, each resumable (finished trainings are reused, interrupted ones
# resume): `make leaderboard-recipes`, every SynthGround recipe of every method over its seeds
# (mmgrounding/apis/synthground_leaderboard.py) -> results/synthground.json and the generated
# tables of docs/, after the build's data report (split counts, detector metrics, proposal
# recall: tools/analysis_tools/data_report.py -> results/synthground_data.json); then, for the
# default build only, `make determinism` (the AMC recipe trained twice on one and twice on two
# threads, at 100 iterations and to its end -> results/determinism*.json) and `make
# leaderboard-build1` (the main table on a second build, below). With DATA=<another build>
# it is that build's recipes alone.
LB_JOBS ?= 2
LB_THREADS ?= 1
# the recipes read the build in $(DATA) (their own work dirs and, for a build other than
# data/synthground, results/synthground_<preset>-seed<S>.json; leaderboard.py --synthground-root)
LB_BUILD = --synthground-root $(DATA)/
CKD_VOCAB := $(DATA)/ckd/phrase_vocab.txt

.PHONY: leaderboard

$(CKD_VOCAB): | setup $(DATA)/meta.json
	$(PY) tools/build_phrase_vocab.py $(GROUNDING_DATASET) --out $@ --data-root $(DATA)/

# SelfEQ's WordNet paraphrases (docs/methods/selfeq.md) and CAM-WSVG's SynthGround CAM
# classifier (docs/methods/camwsvg.md): inputs of their leaderboard rows
SELFEQ_PARAPHRASES := $(DATA)/selfeq/paraphrases_wordnet.json
CAM_CLASSIFIER := $(DATA)/camwsvg/cam-classifier_r18-b16.pth

.PHONY: selfeq-inputs camwsvg-inputs

$(SELFEQ_PARAPHRASES): | setup $(DATA)/meta.json
	OMP_NUM_THREADS=1 $(PY) tools/generate_paraphrases.py \
		--config configs/selfeq/selfeq_albef-tiny_1xb32-900it_synthground-mix.py --out $@ \
		--data-root $(DATA)/

$(CAM_CLASSIFIER): | setup $(DATA)/meta.json
	OMP_NUM_THREADS=1 $(PY) tools/train_cam_classifier.py \
		configs/camwsvg/cam-classifier_r18_1xb32-20e_synthground.py --out $@ \
		--synthground-root $(DATA)/

selfeq-inputs: $(VOCAB) $(SELFEQ_PARAPHRASES)
camwsvg-inputs: proposals $(VOCAB) $(CAM_CLASSIFIER)

LB_PARTS := leaderboard-recipes $(if $(filter data/synthground,$(DATA_DIR)),determinism leaderboard-build1,)

.PHONY: leaderboard-recipes determinism

leaderboard: $(LB_PARTS)

leaderboard-recipes: infoground-inputs reir-inputs $(CKD_VOCAB) selfeq-inputs camwsvg-inputs
	$(PY) tools/analysis_tools/data_report.py --synthground-root $(DATA)/ \
		--region-cache $(REGION_CACHE) --detector-work-dir $(DET_WORK_DIR)
	$(PY) tools/analysis_tools/leaderboard.py --all --jobs $(LB_JOBS) --threads $(LB_THREADS) \
		$(LB_BUILD)

# Reproducibility (docs/leaderboard.md, "Determinism"): one run after the other, so that no
# two share the cores; the second compares its first run with the leaderboard's record
determinism: $(VOCAB)
	$(PY) tools/analysis_tools/leaderboard.py --determinism amc --max-iters 100
	$(PY) tools/analysis_tools/leaderboard.py --determinism amc \
		--out results/determinism_full.json --work-dir work_dirs/determinism-full

# The main table on a second SynthGround build (issue 15's protocol, docs/leaderboard.md,
# "A second build"): the default preset with build seed $(BUILD1_SEED) in $(BUILD1_DATA), its own
# detector, region cache and inputs (only those of the main table's rows: InfoGround's
# reranked negatives, no CAM classifier), the rows of synthground-methods over their seeds
# -> results/synthground_$(PRESET)-seed$(BUILD1_SEED).json and the generated
# synthground-methods-builds table. `make leaderboard-main DATA=... SEED=...` does it for any
# build.
BUILD1_SEED ?= 1
BUILD1_DATA ?= data/synthground-seed$(BUILD1_SEED)

.PHONY: leaderboard-main leaderboard-build1

leaderboard-main: IG_MODES := reranked
leaderboard-main: IG_ORACLE :=
leaderboard-main: infoground-inputs reir-inputs $(CKD_VOCAB) selfeq-inputs
	$(PY) tools/analysis_tools/leaderboard.py --only synthground-methods --jobs $(LB_JOBS) \
		--threads $(LB_THREADS) $(LB_BUILD)

leaderboard-build1:
	$(MAKE) leaderboard-main DATA=$(BUILD1_DATA) SEED=$(BUILD1_SEED)

lint: setup
	$(VENV)/bin/ruff check mmgrounding tools tests benchmarks projects

format: setup
	$(VENV)/bin/ruff format mmgrounding tools tests benchmarks projects

clean:
	rm -rf work_dirs demo_outputs
