from .albef import convert_albef_state_dict

__all__ = ['convert_albef_state_dict']
