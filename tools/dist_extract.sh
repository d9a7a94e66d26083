#!/usr/bin/env bash
# Usage: tools/dist_extract.sh DET_CONFIG DET_CHECKPOINT NUM_PROCS --dataset CONFIG --out DIR
#        [extract_proposals.py args]
# Each process extracts its share of the images not yet in the cache. Multi-node: NNODES,
# NODE_RANK, MASTER_ADDR and PORT as in mmdet. Without CUDA the processes use gloo.
DET_CONFIG=$1
DET_CHECKPOINT=$2
GPUS=$3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
DIR="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python}

PYTHONPATH="$DIR/..":$PYTHONPATH \
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
$PYTHON -m torch.distributed.run \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$DIR/extract_proposals.py" \
    $DET_CONFIG \
    $DET_CHECKPOINT \
    --launcher pytorch \
    ${@:4}
