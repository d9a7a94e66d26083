# AMC Table 3 on RefCOCO+ testA (testB: --cfg-options test_dataloader.dataset.split=testB): the
# Grad-CAM map at 384 px ranks MAttNet's detections by map mass inside the box over the square
# root of its area as the official grounding_eval does (box_ranking='amc_official': the map
# upsampled bicubically, the box's pixels int(y1):int(y2), int(x1):int(x2), ties to the first
# box), on the raw map (the official evaluation does not normalise it; min-max normalisation
# subtracts the map's minimum, which changes mass / area ** 0.5 between boxes of different
# size); R@1 at IoU >= 0.5 is the table's accuracy.
# Import the detections first:
#   python tools/dataset_converters/mattnet_dets_to_region_cache.py \
#       data/refcoco+/mattnet/res101_coco_minus_refer_notime_dets.json \
#       --instances data/refcoco+/instances.json --out data/refcoco+/regions/mattnet/
#   python tools/test.py configs/amc/albef_vg_test-384px_refcoco+-mattnet-dets.py CHECKPOINT
_base_ = ['./albef_vg_test-384px_refcoco+.py']

test_pipeline = [
    dict(type='LoadImageFromFile'),
    # before Resize: the detections stay in original image pixels
    dict(type='LoadRegionFeatures', cache_dir='data/refcoco+/regions/mattnet/'),
    dict(
        type='Resize', scale=(384, 384), keep_ratio=False, interpolation='bicubic', backend='pillow'
    ),
    dict(type='LoadGroundingAnnotations'),
    dict(type='PackGroundingInputs'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
model = dict(box_ranking='amc_official', box_area_power=0.5, explainer=dict(normalize='none'))
test_evaluator = [
    dict(type='PointingGameMetric', protocol='amc_official'),
    dict(type='BoxRecallMetric', topk=(1, 5)),
]
