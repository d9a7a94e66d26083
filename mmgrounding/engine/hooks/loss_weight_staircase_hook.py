"""A loss weight that grows in steps during training (CKD's λ = min(⌊step / a⌋, b))."""
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmgrounding.registry import HOOKS


def staircase_weight(step: int, *, step_size: int, max_weight: float) -> float:
    """min(⌊step / step_size⌋, max_weight): 0 for the first ``step_size`` steps, then 1, 2, ..."""
    if step_size < 1:
        raise ValueError(f'step_size must be >= 1, got {step_size}')
    return float(min(step // step_size, max_weight))


@HOOKS.register_module()
class LossWeightStaircaseHook(Hook):
    """Before every training iteration, set ``model.<attribute>`` to the staircase weight.

    The weight is ``min(⌊iter / step_size⌋, max_weight)`` with ``iter`` the 0-based global
    training iteration (so a resumed run continues the staircase), and is logged as
    ``train/<attribute>``.

    Args:
        attribute: the model attribute holding the weight (``CKDGrounder.distill_weight``).
        step_size: a (paper: 200).
        max_weight: b (paper: 1 with Visual Genome detector features, 3 otherwise).
    """

    priority = 'NORMAL'

    def __init__(self, *, attribute: str = 'distill_weight', step_size: int = 200,
                 max_weight: float = 3.0) -> None:
        staircase_weight(0, step_size=step_size, max_weight=max_weight)  # validates
        self.attribute = attribute
        self.step_size = step_size
        self.max_weight = max_weight

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if not hasattr(model, self.attribute):
            raise AttributeError(f'{type(model).__name__} has no attribute {self.attribute!r} '
                                 f'for {type(self).__name__}')
        weight = staircase_weight(runner.iter, step_size=self.step_size,
                                  max_weight=self.max_weight)
        setattr(model, self.attribute, weight)
        runner.message_hub.update_scalar(f'train/{self.attribute}', weight)
