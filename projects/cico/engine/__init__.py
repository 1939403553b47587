from .channels_last_hook import ChannelsLastHook
from .fuse_conv_bn_hook import FuseConvBNHook

__all__ = ['ChannelsLastHook', 'FuseConvBNHook']
