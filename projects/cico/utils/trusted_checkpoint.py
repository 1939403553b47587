"""Load local checkpoints with ``torch.load(weights_only=True)`` unless the
user trusts them.

Importing ``projects.cico`` registers :func:`load_from_local` as mmengine's
loader for local paths (the '' scheme): ``load_from``, ``tools/test.py``,
``init_model``/the demo and ``CheckpointLoader.load_checkpoint`` read plain
tensors, strings, numbers, lists and dicts only, so a downloaded file cannot
run code. A file that needs unpickling (an mmengine training checkpoint: its
``message_hub`` holds ``HistoryBuffer`` objects and numpy arrays) is refused
with :class:`UntrustedCheckpointError`, naming the file, the refused global
and the opt-ins:

* ``CICO_TRUST_CHECKPOINTS=1`` in the environment, or ``--trust-checkpoint``
  of the tools (:func:`trust_all_checkpoints` sets that variable);
* :func:`trust_directory`: ``tools/train.py --resume`` trusts the files of
  the run's own ``work_dir`` (resuming needs the full training state);
* ``tools/model_converters/publish_model.py IN OUT --trust-checkpoint``
  writes a copy that loads with ``weights_only=True``.

Remote schemes (http, torchvision://) keep mmengine's loaders.
"""
import os
import os.path as osp
import pickle
import re
from typing import List

import torch
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'CICO_TRUST_CHECKPOINTS'
_TRUSTED_DIRS: List[str] = []


class UntrustedCheckpointError(RuntimeError):
    """A checkpoint needs unpickling (can run code) and is not trusted."""


def trust_all_checkpoints() -> None:
    """Opt in: every local checkpoint of this process (and of the processes
    it starts) may be unpickled. What ``--trust-checkpoint`` calls."""
    os.environ[TRUST_ENV] = '1'


def trusts_all_checkpoints() -> bool:
    """Whether ``CICO_TRUST_CHECKPOINTS`` is set to 1 (or true/yes)."""
    return os.environ.get(TRUST_ENV,
                          '').strip().lower() in ('1', 'true', 'yes')


def trust_directory(path: str) -> None:
    """Trust the checkpoints inside ``path`` (resolved, links followed) for
    the rest of this process: a run's own work_dir when it resumes."""
    real = osp.realpath(osp.expanduser(path))
    if real not in _TRUSTED_DIRS:
        _TRUSTED_DIRS.append(real)


def untrust_directories() -> None:
    """Forget every :func:`trust_directory` (tests)."""
    _TRUSTED_DIRS.clear()


def is_trusted(filename: str) -> bool:
    """Whether ``filename`` may be unpickled: the environment opt-in, or the
    resolved file lies inside a trusted directory."""
    if trusts_all_checkpoints():
        return True
    real = osp.realpath(osp.expanduser(filename))
    return any(
        real.startswith(d.rstrip(os.sep) + os.sep) for d in _TRUSTED_DIRS)


def untrusted_message(filename: str, error: Exception) -> str:
    """The one message for a refused file: what, why and the opt-ins."""
    found = re.search(r'GLOBAL ([\w.]+)', str(error))
    what = f' (it holds {found.group(1)})' if found else ''
    return (
        f'checkpoint {filename} needs unpickling, which can run code, so it '
        f'is not loaded{what}. If you trust this file, opt in with '
        f'--trust-checkpoint or the environment variable {TRUST_ENV}=1, or '
        'write a weights-only copy once with python '
        'tools/model_converters/publish_model.py IN OUT --trust-checkpoint')


def load_checkpoint_file(filename: str, map_location=None, trust=False):
    """``torch.load`` with ``weights_only=True``; a file that needs
    unpickling is loaded in full when trusted (``trust`` or
    :func:`is_trusted`), else raises :class:`UntrustedCheckpointError`
    (nothing of it has run)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        if not (trust or is_trusted(filename)):
            raise UntrustedCheckpointError(untrusted_message(filename,
                                                             error)) from None
    return torch.load(filename, map_location=map_location, weights_only=False)


def load_from_local(filename: str, map_location=None):
    """mmengine's local loader (signature of ``load_from_local``)."""
    return load_checkpoint_file(filename, map_location)


def register_checkpoint_loader() -> None:
    """Make mmengine's ``load_checkpoint``/``Runner.resume`` use
    :func:`load_from_local` for local paths. Idempotent."""
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local, force=True)
