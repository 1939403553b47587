from .clip_expand import ClipExpand
from .clip_sampling import ClipFrameSample, train_clip_indices
from .filter_instances import FilterEmptyInstances
from .pack_clip_inputs import PackClipInputs

__all__ = [
    'ClipExpand', 'ClipFrameSample', 'FilterEmptyInstances', 'PackClipInputs',
    'train_clip_indices'
]
