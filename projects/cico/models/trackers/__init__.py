from .clip_tracker import ClipTracker

__all__ = ['ClipTracker']
