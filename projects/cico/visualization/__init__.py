from .clip_vis_hook import ClipVisualizationHook
from .draw import decode_masks, draw_frame, draw_track_instances, id_color

__all__ = [
    'ClipVisualizationHook', 'draw_frame', 'draw_track_instances',
    'decode_masks', 'id_color'
]
