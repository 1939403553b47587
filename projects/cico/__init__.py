"""CiCo-MMDet: clip-in clip-out video instance segmentation as an MMDetection
3.x plugin. Importing this package registers every CiCo module in mmdet's
registries (``custom_imports = dict(imports=['projects.cico'])``)."""
from . import apis, datasets, evaluation, models, visualization  # noqa: F401
from .utils import register_trusted_local_loader

register_trusted_local_loader()

__version__ = '0.1.0'
