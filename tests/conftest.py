import pytest

from mmgrounding.utils import register_all_modules

register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session')
def synthground_root(tmp_path_factory) -> str:
    """A small SynthGround build shared by the tests (every format)."""
    from mmgrounding.datasets.synthground import build_synthground
    root = tmp_path_factory.mktemp('synthground')
    build_synthground(str(root), seed=0, num_images=40)
    return str(root) + '/'
