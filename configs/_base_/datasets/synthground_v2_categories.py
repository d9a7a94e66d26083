# The categories of the default SynthGround build (v2), in meta.json['categories'] order: 60
# pictograms under 7 WordNet supercategories (docs/synthground.md "v2 preset"). The one list
# that the SynthGround detector (synthground_vg_detection.py: metainfo.classes) and CAM-WSVG's
# classifier (camwsvg_tiny.py, cam-classifier_r18_1xb32-20e_synthground.py) read, as
# `_base_.synthground_classes`; tests/test_datasets/test_synthground_v2.py checks it against a
# build. A `--preset v1` build has the 9 shapes of faster-rcnn_..._synthground-v1-vg.py instead.
# fmt: off
synthground_classes = [
    # animal.n.01
    'dog', 'poodle', 'cat', 'horse', 'cow', 'pig', 'sheep', 'bird', 'rooster', 'elephant',
    'rabbit', 'mouse', 'camel',
    # vehicle.n.01
    'car', 'taxi', 'ambulance', 'police car', 'truck', 'fire engine', 'tractor', 'bicycle',
    'locomotive', 'motorcycle', 'airplane', 'helicopter', 'ship', 'sailboat',
    # fruit.n.01
    'apple', 'pear', 'banana', 'lemon', 'cherry', 'strawberry', 'pineapple',
    # musical_instrument.n.01
    'guitar', 'violin', 'trumpet', 'saxophone', 'drum', 'bell', 'piano',
    # tool.n.01
    'hammer', 'wrench', 'knife', 'pickaxe', 'pair of scissors',
    # clothing.n.01
    't-shirt', 'dress', 'hat', 'top hat', 'kimono', 'necktie', 'scarf',
    # plant.n.02
    'tree', 'palm tree', 'tulip', 'rose', 'sunflower', 'hibiscus', 'clover',
]
# fmt: on
