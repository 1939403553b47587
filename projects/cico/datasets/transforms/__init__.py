from .clip_sampling import (ClipFrameSample, clip_frame_indices,
                            default_clip_overlap, num_clips,
                            train_clip_indices)
from .filter_instances import FilterEmptyInstances

__all__ = [
    'ClipFrameSample', 'FilterEmptyInstances', 'clip_frame_indices',
    'default_clip_overlap',
    'num_clips', 'train_clip_indices'
]
