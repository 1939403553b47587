from .dense_heads import CiCoClipHead
from .layers import ClipConvTower
from .losses import ClipMaskLoss, TrackEmbedLoss
from .mask_heads import ClipLincombMask, ClipProtoNet
from .necks import ReferenceFPN  # noqa: F401 (registers the neck)
from .task_modules import CircumscribedBoxAssigner
from .trackers import ClipTracker
from .vis import CiCo, ClipStream
from .weight_init import InflatedPretrained

__all__ = [
    'CiCo', 'ClipStream', 'CiCoClipHead', 'ClipProtoNet', 'ClipLincombMask',
    'CircumscribedBoxAssigner', 'ClipMaskLoss', 'TrackEmbedLoss',
    'ClipTracker', 'ClipConvTower', 'InflatedPretrained'
]
