from .clip_layout import (CLIP_META_KEYS, CLIP_SCHEDULES, ClipLayout,
                          check_clip_schedule, clip_frame_metainfo,
                          default_clip_overlap, num_clips,
                          resolve_clip_overlap, stream_clip,
                          stream_clip_is_last, video_clip)
from .samplers import VideoClipSampler
from .synthvis_meta import SYNTHVIS_CLASSES
from .transforms import ClipFrameSample, PackClipInputs
from .vis_dataset import (OVISDataset, SynthVISDataset, VISDataset,
                          YTVIS2019Dataset, YTVIS2021Dataset, load_vis_json)

__all__ = [
    'VISDataset', 'YTVIS2019Dataset', 'YTVIS2021Dataset', 'OVISDataset',
    'SynthVISDataset', 'load_vis_json', 'ClipFrameSample', 'PackClipInputs',
    'VideoClipSampler', 'SYNTHVIS_CLASSES', 'CLIP_META_KEYS', 'CLIP_SCHEDULES',
    'ClipLayout', 'check_clip_schedule', 'clip_frame_metainfo',
    'default_clip_overlap', 'num_clips', 'resolve_clip_overlap', 'stream_clip',
    'stream_clip_is_last', 'video_clip'
]
