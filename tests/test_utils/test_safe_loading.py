"""Files from the internet run no code when loaded (issue 14, part 1).

Each loader is given a file that carries an ``os.system`` payload creating a marker file:
the loader must refuse it with an error naming the file and the global, and the marker must
not exist afterwards. The same payload run through the stdlib unpickler does create its
marker, so the payload is live and the tests can fail.
"""

import argparse
import collections
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmgrounding.datasets.refcoco import load_refs
from mmgrounding.datasets.utils import GroundingAnnotationError
from mmgrounding.utils import UntrustedCheckpointError, load_local_checkpoint
from mmgrounding.utils.compat import set_trust_checkpoints
from mmgrounding.utils.safe_pickle import ForbiddenGlobalError, loads_plain_data


class Payload:
    """Unpickles as ``os.system('touch <marker>')``."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def plain_ref(ref_id=0):
    return dict(
        ref_id=ref_id,
        ann_id=1,
        image_id=2,
        split='train',
        category_id=1,
        sent_ids=[0],
        file_name='x.jpg',
        sentences=[dict(tokens=['a'], raw='a', sent_id=0, sent='a')],
    )


def test_the_payload_is_live(tmp_path):
    marker = tmp_path / 'ran'
    pickle.loads(pickle.dumps([Payload(marker)], protocol=2))
    assert marker.exists()


def test_plain_data_round_trips():
    data = [plain_ref(), (1, 2.5, None, True, {'k': [1, 2]}, -7, 2**70)]
    assert loads_plain_data(pickle.dumps(data, protocol=2)) == data


def test_refs_file_with_a_payload_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'refs(unc).p'
    # the payload sits where a real attack would put it: inside an otherwise valid ref
    ref = plain_ref()
    ref['sentences'][0]['sent'] = Payload(marker)
    path.write_bytes(pickle.dumps([ref], protocol=2))
    with pytest.raises(
        GroundingAnnotationError,
        match=r'refs\(unc\)\.p: refused to unpickle the global posix\.system',
    ):
        load_refs(str(path))
    assert not marker.exists()


def test_refs_file_with_any_class_is_refused(tmp_path):
    path = tmp_path / 'refs(unc).p'
    path.write_bytes(pickle.dumps([collections.OrderedDict(plain_ref())], protocol=2))
    with pytest.raises(GroundingAnnotationError, match=r'collections\.OrderedDict'):
        load_refs(str(path))
    with pytest.raises(ForbiddenGlobalError):
        loads_plain_data(path.read_bytes())


def write_payload_checkpoint(tmp_path, marker):
    path = tmp_path / 'model.pth'
    torch.save({'state_dict': {'w': torch.ones(2)}, 'args': Payload(marker)}, path)
    return path


def test_checkpoint_with_a_payload_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    path = write_payload_checkpoint(tmp_path, marker)
    with pytest.raises(
        UntrustedCheckpointError,
        match=r'model\.pth: refused to load the globals posix\.system.*'
        r'--trust-checkpoint',
    ):
        load_local_checkpoint(str(path))
    # what load_from, resume and init_cfg=Pretrained call for a local path
    with pytest.raises(UntrustedCheckpointError, match='posix.system'):
        CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert not marker.exists()


def test_trust_opt_in_unpickles_fully(tmp_path):
    # a harmless class the safe loader does not admit: refused, then loaded when trusted
    # (the training arguments, as many repositories save them)
    path = tmp_path / 'args.pth'
    torch.save({'state_dict': {}, 'args': argparse.Namespace(lr=0.1)}, path)
    with pytest.raises(UntrustedCheckpointError, match=r'argparse\.Namespace'):
        load_local_checkpoint(str(path))
    assert load_local_checkpoint(str(path), trust=True)['args'].lr == 0.1
    set_trust_checkpoints(True)
    try:
        assert CheckpointLoader.load_checkpoint(str(path))['args'].lr == 0.1
    finally:
        set_trust_checkpoints(False)
    with pytest.raises(UntrustedCheckpointError):
        CheckpointLoader.load_checkpoint(str(path))


@pytest.mark.parametrize(
    'owner,name',
    [
        (HistoryBuffer, '__init__'),
        (HistoryBuffer, 'register_statistics'),
        (HistoryBuffer.min, '__globals__'),
    ],
    ids=['dunder', 'classmethod', 'function-globals'],
)
def test_restricted_getattr_returns_history_buffer_methods_only(tmp_path, owner, name):
    # the admitted ``builtins.getattr`` is asked for something a runner checkpoint never holds

    class Reach:
        def __reduce__(self):
            return getattr, (owner, name)

    path = tmp_path / 'reach.pth'
    torch.save({'x': Reach()}, path)
    with pytest.raises(UntrustedCheckpointError, match=r'reach\.pth: refused to load'):
        load_local_checkpoint(str(path))
