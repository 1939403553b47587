"""Weight initialisation from checkpoints of other models: the 2D -> 3D
inflation of frame-level COCO models (``InflatedPretrained``) and the record
of what a checkpoint was trained with."""
from .inflate import InflatedPretrained, inflate_state_dict
from .trained_with import checkpoint_signature, model_signature

__all__ = [
    'InflatedPretrained', 'inflate_state_dict', 'checkpoint_signature',
    'model_signature'
]
