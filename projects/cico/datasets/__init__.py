from .samplers import VideoClipSampler
from .synthvis_meta import SYNTHVIS_CLASSES
from .transforms import ClipFrameSample, PackClipInputs
from .vis_dataset import (OVISDataset, SynthVISDataset, VISDataset,
                          YTVIS2019Dataset, YTVIS2021Dataset, load_vis_json)

__all__ = [
    'VISDataset', 'YTVIS2019Dataset', 'YTVIS2021Dataset', 'OVISDataset',
    'SynthVISDataset', 'load_vis_json', 'ClipFrameSample', 'PackClipInputs',
    'VideoClipSampler', 'SYNTHVIS_CLASSES'
]
