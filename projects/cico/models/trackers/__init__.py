from .clip_tracker import ClipTracker
from .reference_clip_tracker import ReferenceClipTracker

__all__ = ['ClipTracker', 'ReferenceClipTracker']
