from .temporal_coherence import proportion_at_least, temporal_coherence
from .track_errors import classify_tracks, oracle_ap, summarize_errors
from .vis_format import format_video_tracks
from .vis_metric import CiCoVISMetric

__all__ = [
    'CiCoVISMetric', 'temporal_coherence', 'proportion_at_least',
    'format_video_tracks', 'classify_tracks', 'summarize_errors', 'oracle_ap'
]
