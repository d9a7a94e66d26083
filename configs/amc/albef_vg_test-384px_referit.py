# AMC evaluated on ReferItGame test as the paper does: as albef_vg_test-384px_refcoco+.py (384
# x 384 images, a 24 x 24 Grad-CAM grid, the official pointing rule) on the RefCLEF berkeley
# split. Tests a checkpoint of albef_vg.py:
#   python tools/test.py configs/amc/albef_vg_test-384px_referit.py CHECKPOINT
_base_ = ['./albef_vg_test-384px_refcoco+.py']

test_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='ReferItGameDataset',
        data_root='data/referit/',
        ann_file='refclef/instances.json',
        refs_file='refclef/refs(berkeley).p',
        split='test',
        data_prefix=dict(img='saiapr_tc-12/'),
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
    )
)
