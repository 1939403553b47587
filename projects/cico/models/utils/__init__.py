from .clip_instances import (build_clip_instances, circumscribed_boxes,
                             supplement_missing_boxes,
                             window_circumscribed_boxes)

__all__ = [
    'build_clip_instances', 'circumscribed_boxes', 'supplement_missing_boxes',
    'window_circumscribed_boxes'
]
