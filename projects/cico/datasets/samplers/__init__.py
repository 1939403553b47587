from .clip_sampler import VideoClipSampler, split_videos
from .key_frame_sampler import KeyFrameSampler

__all__ = ['KeyFrameSampler', 'VideoClipSampler', 'split_videos']
