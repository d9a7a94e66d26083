from .bert_text_encoder import BertTextEncoder
from .lstm_phrase_encoder import LSTMPhraseEncoder

__all__ = ['BertTextEncoder', 'LSTMPhraseEncoder']
