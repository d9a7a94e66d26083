# SynthGround v2's own ReferItGame split read from its Berkeley query files
# (referit_query_{train,val,trainval,test}.json, referit_bbox.json, referit_imsize.json) by
# ReferItBerkeleyDataset: one sample per query; the same regions and queries as the RefCLEF
# files of synthground_referit_v2.py.
_base_ = ['./synthground_referit_v2.py']

berkeley = dict(
    _delete_=True,
    type='ReferItBerkeleyDataset',
    data_root='data/synthground/',
    bbox_file='referit/berkeley/referit_bbox.json',
    imsize_file='referit/berkeley/referit_imsize.json',
    data_prefix=dict(img='referit/images/'),
)
train_dataloader = dict(
    dataset=dict(
        berkeley,
        ann_file='referit/berkeley/referit_query_train.json',
        pipeline={{_base_.train_pipeline}},
    )
)
val_dataloader = dict(
    dataset=dict(
        berkeley,
        ann_file='referit/berkeley/referit_query_val.json',
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
    )
)
test_dataloader = dict(
    dataset=dict(
        berkeley,
        ann_file='referit/berkeley/referit_query_test.json',
        test_mode=True,
        pipeline={{_base_.test_pipeline}},
    )
)
