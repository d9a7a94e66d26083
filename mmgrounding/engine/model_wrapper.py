"""A model wrapper for distributed evaluation."""
from torch import nn

from mmgrounding.registry import MODEL_WRAPPERS


@MODEL_WRAPPERS.register_module()
class InferenceWrapper(nn.Module):
    """Wraps a model for distributed testing, where no gradients are synchronised.

    DistributedDataParallel refuses models without trainable parameters (the baselines) and
    does nothing useful at test time; ``tools/test.py`` uses this wrapper instead when it runs
    distributed. Each process evaluates its shard; the metrics gather the results.
    """

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.module = module

    def val_step(self, data):
        return self.module.val_step(data)

    def test_step(self, data):
        return self.module.test_step(data)

    def train_step(self, data, optim_wrapper):
        raise RuntimeError('InferenceWrapper is for evaluation; train with '
                           'MMDistributedDataParallel')
