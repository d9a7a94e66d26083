"""The SynthGround builds the dataset tests read, built once per session and shared."""

import pytest


@pytest.fixture(scope='session')
def synthground_build(tmp_path_factory):
    """``synthground_build(preset, seed, num_images, **options) -> (root, counts)``: a build in
    its own temporary folder, made on the first request and shared by every test that asks
    for the same arguments (``test_synthground.py``: v1; ``test_synthground_v2.py``: v2)."""
    from mmgrounding.datasets.synthground import build_synthground

    builds = {}

    def build(preset: str, seed: int, num_images: int, **options) -> tuple[str, dict]:
        key = (preset, seed, num_images, tuple(sorted(options.items())))
        if key not in builds:
            root = str(tmp_path_factory.mktemp(f'synthground_{preset}_seed{seed}'))
            counts = build_synthground(
                root, preset=preset, seed=seed, num_images=num_images, **options
            )
            builds[key] = (root, counts)
        return builds[key]

    return build
