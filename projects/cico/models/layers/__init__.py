from .clip_conv import ClipConvTower, clip_conv_module, fold, unfold
from .inflate import InflatedPretrained, inflate_state_dict

__all__ = [
    'ClipConvTower', 'clip_conv_module', 'fold', 'unfold',
    'InflatedPretrained', 'inflate_state_dict'
]
