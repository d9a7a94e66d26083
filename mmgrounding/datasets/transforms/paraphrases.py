"""SelfEQ's paraphrases, attached to each training text at load time."""

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import MMLogger

from mmgrounding.registry import TRANSFORMS
from mmgrounding.text.paraphrase import normalize_text, read_paraphrases

from .augment import swap_left_right


@TRANSFORMS.register_module()
class LoadParaphrases(BaseTransform):
    """Attach one paraphrase of the sample's text as ``paraphrase`` (SelfEQ's t').

    The paraphrases come from the JSON cache of ``tools/generate_paraphrases.py``, keyed by
    the normalised text (lower case, single spaces). A text without any gets
    ``paraphrase=None`` and trains without the paraphrase branch; such samples are counted in
    ``num_missing`` (per worker process), the first one logged as a warning. After
    :class:`RandomFlipWithText` a flipped text that is not in the cache is looked up
    unflipped and its paraphrase flipped ("left" <-> "right") the same way. Add
    ``'paraphrase'`` to the ``meta_keys`` of :class:`PackGroundingInputs` so that the grounder
    sees it.

    Args:
        paraphrases_file: the cache, read once per process on first use.
        choice: ``'random'`` draws one of the text's paraphrases per load (numpy's global
            generator, which MMEngine seeds per worker), ``'first'`` always takes the first.
        text_key: the results key of the text (``'caption'``: a VG prompt or a caption).
    """

    def __init__(
        self, paraphrases_file: str, *, choice: str = 'random', text_key: str = 'caption'
    ) -> None:
        if choice not in ('random', 'first'):
            raise ValueError(f"choice must be 'random' or 'first', got {choice!r}")
        self.paraphrases_file = paraphrases_file
        self.choice = choice
        self.text_key = text_key
        self.num_missing = 0
        self.num_seen = 0
        self._table: dict | None = None

    @property
    def table(self) -> dict:
        if self._table is None:
            self._table = read_paraphrases(self.paraphrases_file)
        return self._table

    def transform(self, results: dict) -> dict:
        if self.text_key not in results:
            raise KeyError(
                f'LoadParaphrases: the sample has no {self.text_key!r} (keys: {sorted(results)})'
            )
        self.num_seen += 1
        text = results[self.text_key]
        options = self.table.get(normalize_text(text)) or []
        if not options and results.get('flip'):
            unflipped = self.table.get(normalize_text(swap_left_right(text)[0])) or []
            options = [swap_left_right(p)[0] for p in unflipped]
        if not options:
            if self.num_missing == 0:
                MMLogger.get_current_instance().warning(
                    f'{self.paraphrases_file}: no paraphrase for {results[self.text_key]!r}; '
                    'texts without one train without the paraphrase branch (counted in '
                    'LoadParaphrases.num_missing)'
                )
            self.num_missing += 1
            results['paraphrase'] = None
            return results
        pick = 0 if self.choice == 'first' else int(np.random.randint(len(options)))
        results['paraphrase'] = options[pick]
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(paraphrases_file={self.paraphrases_file!r}, '
            f'choice={self.choice!r}, text_key={self.text_key!r})'
        )
