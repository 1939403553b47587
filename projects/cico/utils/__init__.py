from .clip_layout import (CLIP_META_KEYS, CLIP_SCHEDULES, ClipLayout,
                          check_clip_schedule, clip_frame_metainfo,
                          clip_layout_of, default_clip_overlap,
                          layout_of_frames, num_clips, resolve_clip_overlap,
                          stream_clip, stream_clip_is_last, video_clip)
from .cpu_distributed import setup_cpu_distributed, teardown_distributed
from .tool_config import (add_runner_args, check_clip_len, load_tool_config,
                          parse_tool_args)
from .trusted_checkpoint import (TRUST_ENV, UntrustedCheckpointError,
                                 load_checkpoint_file, load_from_local,
                                 register_checkpoint_loader,
                                 trust_all_checkpoints, trust_directory)

__all__ = [
    'TRUST_ENV', 'UntrustedCheckpointError', 'load_checkpoint_file',
    'load_from_local', 'register_checkpoint_loader', 'trust_all_checkpoints',
    'trust_directory', 'setup_cpu_distributed', 'teardown_distributed',
    'load_tool_config', 'add_runner_args', 'parse_tool_args', 'check_clip_len',
    'CLIP_META_KEYS', 'CLIP_SCHEDULES', 'ClipLayout', 'check_clip_schedule',
    'clip_frame_metainfo', 'clip_layout_of', 'default_clip_overlap',
    'layout_of_frames', 'num_clips', 'resolve_clip_overlap', 'stream_clip',
    'stream_clip_is_last', 'video_clip'
]
