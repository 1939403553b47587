from .base_clip_tracker import BaseClipTracker, TrackingClip
from .clip_tracker import ClipTracker
from .reference_clip_tracker import ReferenceClipTracker

__all__ = [
    'BaseClipTracker', 'TrackingClip', 'ClipTracker', 'ReferenceClipTracker'
]
