_base_ = ['./centre_synthground_flickr30k.py']

# Only the type and its arguments change; the data preprocessor is inherited.
model = dict(type='RandomBaselineGrounder', seed=0, num_boxes=10)
