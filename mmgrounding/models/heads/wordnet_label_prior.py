"""ReIR's label prior from WordNet: the phrase's head noun against each class name."""

from typing import Optional, Sequence

from mmgrounding.registry import MODELS
from mmgrounding.text import head_noun, lemmatize_noun, most_frequent_synset

from .label_prior import BaseLabelPrior

# heads that stand for a noun ("the left one"): they say nothing about the class
PRO_FORMS = frozenset({'one', 'ones'})


@MODELS.register_module()
class WordNetLabelPrior(BaseLabelPrior):
    """s^a = Wu–Palmer similarity of the head noun's and the class's most frequent synsets.

    Needs no download beyond WordNet (the SynthGround default). A head noun equal to the
    class name (after lemmatisation) scores 1; a pro-form head (``one``) or a head without
    a noun synset gives no prior (a row of ones); a class without a synset scores 0.

    Args:
        class_names: the detector's classes.
    """

    def __init__(self, class_names: Sequence[str]) -> None:
        super().__init__(class_names)
        self.class_lemmas = [lemmatize_noun(c.replace(' ', '_').lower()) for c in self.class_names]
        self.class_synsets = [most_frequent_synset(c) for c in self.class_lemmas]

    def phrase_row(self, text: str) -> Optional[Sequence[float]]:
        head = head_noun(text)
        synset = most_frequent_synset(head) if head and head not in PRO_FORMS else None
        if synset is None:
            return None
        row = []
        for lemma, class_synset in zip(self.class_lemmas, self.class_synsets):
            if head == lemma or class_synset == synset:
                row.append(1.0)
            elif class_synset is None:
                row.append(0.0)
            else:
                row.append(float(synset.wup_similarity(class_synset) or 0.0))
        return row
