from .region_extraction import (
    capture_inputs,
    dataset_images,
    detector_test_pipeline,
    extract_regions,
    extract_to_cache,
    region_test_cfg,
)

__all__ = [
    'capture_inputs', 'dataset_images', 'detector_test_pipeline', 'extract_regions',
    'extract_to_cache', 'region_test_cfg'
]
