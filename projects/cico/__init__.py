"""CiCo-MMDet: clip-in clip-out video instance segmentation as an MMDetection
3.x plugin. Importing this package registers every CiCo module in mmdet's
registries (``custom_imports = dict(imports=['projects.cico'])``)."""
from . import apis, datasets, engine, evaluation, models, visualization
from .utils import register_checkpoint_loader

register_checkpoint_loader()  # local checkpoints: weights_only=True

__version__ = '0.1.0'
__all__ = [
    'apis', 'datasets', 'engine', 'evaluation', 'models', 'visualization',
    '__version__'
]
