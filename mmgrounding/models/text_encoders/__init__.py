from .bert_text_encoder import BertTextEncoder
from .caption_lstm_phrase_encoder import CaptionLSTMPhraseEncoder
from .lstm_phrase_encoder import LSTMPhraseEncoder

__all__ = ['BertTextEncoder', 'CaptionLSTMPhraseEncoder', 'LSTMPhraseEncoder']
