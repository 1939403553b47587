from .clip_sampling import (ClipFrameSample, clip_frame_indices, num_clips,
                            train_clip_indices)

__all__ = [
    'ClipFrameSample', 'clip_frame_indices', 'num_clips', 'train_clip_indices'
]
