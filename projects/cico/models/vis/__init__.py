from .cico import CiCo
from .clip_network import ClipNetwork
from .clip_stream import ClipStream

__all__ = ['CiCo', 'ClipNetwork', 'ClipStream']
