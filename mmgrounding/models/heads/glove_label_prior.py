"""ReIR's label prior from word vectors (the paper's and official choice: GloVe)."""

from typing import Optional, Sequence

import numpy as np

from mmgrounding.registry import MODELS
from mmgrounding.text import read_word_vocab, word_tokenize

from ..text_encoders.lstm_phrase_encoder import load_glove
from .label_prior import BaseLabelPrior


@MODELS.register_module()
class GloVeLabelPrior(BaseLabelPrior):
    """s^a = mean over the phrase's words of max(0, cos(E(word), E(class))).

    As the official ``cal_det_label_sim_max``: the cosine of each phrase word with each
    class name (a class of several words is the mean of their vectors), negative values
    set to 0, averaged over the words that have a vector. A phrase none of whose words has a
    vector gets no prior. Only the words of ``vocab_file`` and the class names are read from
    the GloVe file.

    Args:
        glove_file: a GloVe-format text file (``word v1 ... vD`` per line).
        class_names: the detector's classes.
        vocab_file: the words phrases may contain (the phrase encoder's vocabulary).
        dim: D.
    """

    def __init__(
        self, glove_file: str, class_names: Sequence[str], *, vocab_file: str, dim: int = 300
    ) -> None:
        super().__init__(class_names)
        class_words = [word_tokenize(c.replace('_', ' ')) for c in self.class_names]
        words = sorted(set(read_word_vocab(vocab_file)) | {w for ws in class_words for w in ws})
        matrix, _ = load_glove(glove_file, words, dim)
        vectors = {w: matrix[i] for i, w in enumerate(words) if np.any(matrix[i])}
        self.vectors = vectors
        classes = []
        for ws in class_words:
            found = [vectors[w] for w in ws if w in vectors]
            classes.append(np.mean(found, axis=0) if found else np.zeros(dim, np.float32))
        classes = np.stack(classes)
        norms = np.linalg.norm(classes, axis=1, keepdims=True)
        self.class_vectors = classes / np.maximum(norms, 1e-12)

    def phrase_row(self, text: str) -> Optional[Sequence[float]]:
        found = [self.vectors[w] for w in word_tokenize(text) if w in self.vectors]
        if not found:
            return None
        words = np.stack(found)
        words = words / np.maximum(np.linalg.norm(words, axis=1, keepdims=True), 1e-12)
        return np.maximum(words @ self.class_vectors.T, 0).mean(axis=0).tolist()
