"""Load mmengine checkpoints on torch >= 2.6, in one place.

torch 2.6 made ``torch.load(weights_only=True)`` the default. mmengine 0.10
checkpoints hold a ``message_hub`` (``HistoryBuffer`` with numpy arrays) and
numpy scalars in ``meta``, so ``--resume``, ``load_from`` and ``tools/test.py``
fail with ``Unsupported global``. Importing ``projects.cico`` replaces
mmengine's loader for local paths (the '' scheme) by one that passes
``weights_only=False``. Only load checkpoints you trust: unpickling runs code.
Remote schemes (http, torchvision://) keep mmengine's loaders.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


def load_from_local_trusted(filename: str, map_location=None):
    """mmengine's local loader with ``weights_only=False`` (trusted files)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def register_trusted_local_loader() -> None:
    """Make mmengine's ``load_checkpoint``/``Runner.resume`` use
    :func:`load_from_local_trusted` for local paths. Idempotent."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_trusted, force=True)
