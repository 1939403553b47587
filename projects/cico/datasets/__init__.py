from .samplers import VideoClipSampler
from .synthvis import SYNTHVIS_CLASSES, generate_synthvis
from .transforms import ClipFrameSample
from .vis_dataset import (OVISDataset, SynthVISDataset, VISDataset,
                          YTVIS2019Dataset, YTVIS2021Dataset, load_vis_json)

__all__ = [
    'VISDataset', 'YTVIS2019Dataset', 'YTVIS2021Dataset', 'OVISDataset',
    'SynthVISDataset', 'load_vis_json', 'ClipFrameSample', 'VideoClipSampler',
    'SYNTHVIS_CLASSES', 'generate_synthvis'
]
