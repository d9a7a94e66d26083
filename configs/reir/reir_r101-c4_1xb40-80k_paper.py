# What the paper-scale ReIR configs (reir_r101-c4_1xb40-80k_{flickr30k,referit}.py) share: the
# model, the runtime, the M boxes per image, checkpointing and the seed. A dataset config adds
# its dataset base and what hangs on its data_root (the GloVe / vocabulary files, the region
# cache, hence the pipelines); its dataloaders and evaluators stay there too, since mmengine
# allows no key in two sibling bases and the dataset base sets them.
_base_ = [
    '../_base_/models/reir_r101-c4.py',
    '../_base_/default_runtime.py',
]

num_regions = 50  # M
default_hooks = dict(
    checkpoint=dict(
        by_epoch=False, interval=2500, max_keep_ckpts=2, save_best='reir/fused/union/acc@0.5'
    ),
    visualization=dict(draw=False),
)
log_processor = dict(by_epoch=False)
randomness = dict(seed=0)
