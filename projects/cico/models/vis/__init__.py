from .cico import CiCo
from .clip_stream import ClipStream

__all__ = ['CiCo', 'ClipStream']
