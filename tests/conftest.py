import logging

import pytest
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmgrounding.utils import register_all_modules

register_all_modules(init_default_scope=True)


@pytest.fixture(autouse=True)
def mmgrounding_scope():
    """Every test starts in the mmgrounding scope, whatever scope an earlier test's runner
    made current (``Runner(default_scope='mmengine')`` does)."""
    with DefaultScope.overwrite_default_scope('mmgrounding'):
        yield


@pytest.fixture(scope='session')
def synthground_root(tmp_path_factory) -> str:
    """A small SynthGround build shared by the tests (every format)."""
    from mmgrounding.datasets.synthground import build_synthground
    root = tmp_path_factory.mktemp('synthground')
    build_synthground(str(root), seed=0, num_images=40)
    return str(root) + '/'


@pytest.fixture(scope='session')
def learning_data(tmp_path_factory) -> dict:
    """A 150-image SynthGround with its vocabularies and a region cache of pixel features,
    for the learning tests (tests/learning.py)."""
    from tests.learning import build_learning_data
    return build_learning_data(str(tmp_path_factory.mktemp('learning')))


@pytest.fixture(scope='session')
def learning_baselines(learning_data, tmp_path_factory) -> dict:
    """Test metrics of the centre and detector-score baselines on ``learning_data``."""
    from tests.learning import run
    return {name: run(name, learning_data, str(tmp_path_factory.mktemp(name)))
            for name in ('centre', 'detector-score')}


@pytest.fixture
def free_port() -> str:
    """A TCP port nothing listens on now, for the rendezvous of a multi-process test (a
    fixed port fails while an earlier run's process still holds it)."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return str(sock.getsockname()[1])


@pytest.fixture
def log_messages():
    """The messages logged while the test runs (MMLogger does not propagate to caplog)."""
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield messages
    logger.removeHandler(handler)
