from .clip_conv import ClipConvTower, clip_conv_module, fold, unfold

__all__ = ['ClipConvTower', 'clip_conv_module', 'fold', 'unfold']
