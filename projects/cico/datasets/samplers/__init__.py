from .clip_sampler import VideoClipSampler, split_videos

__all__ = ['VideoClipSampler', 'split_videos']
