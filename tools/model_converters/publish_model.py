"""Publish a checkpoint: a copy that loads with ``weights_only=True``.

    python tools/model_converters/publish_model.py IN OUT [--trust-checkpoint]

Keeps ``state_dict`` and ``meta`` (``dataset_meta``, the config text, epoch,
iter ...), drops the optimizer, the param schedulers and the message hub,
turns numpy values of ``meta`` into Python numbers and lists, and writes
``OUT`` with the first 8 hex digits of its sha256 added to the name
(``OUT.pth`` -> ``OUT-1a2b3c4d.pth``), as mmdet's tool does. The published
file holds only tensors, strings, numbers, lists and dicts, so every CiCo
entry point loads it without trusting it. Reading a training checkpoint
``IN`` needs unpickling: pass ``--trust-checkpoint`` for a file you trust.
"""
import argparse
import hashlib
import os
import os.path as osp
import sys
from collections import OrderedDict
from typing import List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402
import torch  # noqa: E402

from projects.cico.utils import trusted_checkpoint as tc  # noqa: E402


def to_plain(value, path: str = 'meta'):
    """``value`` with numpy scalars/arrays as Python numbers/lists; raises
    ``TypeError`` naming ``path`` for anything else that is not a tensor,
    str, number, bool, None, list, tuple or dict."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if value is None or isinstance(value,
                                   (str, bool, int, float, torch.Tensor)):
        return value
    if isinstance(value, dict):
        return {k: to_plain(v, f'{path}.{k}') for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [to_plain(v, f'{path}[{i}]') for i, v in enumerate(value)]
        return type(value)(items)
    raise TypeError(f'{path} is a {type(value).__name__}, which '
                    "torch.load(weights_only=True) can't read")


def publishable(checkpoint) -> dict:
    """The kept part of a loaded checkpoint: ``state_dict`` (CPU tensors,
    ``module.`` kept as is) and plain ``meta``; a bare state dict becomes
    ``{'state_dict': ...}``."""
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint is a dict, not a '
                        f'{type(checkpoint).__name__}')
    if 'state_dict' not in checkpoint:
        checkpoint = dict(state_dict=checkpoint)
    state = OrderedDict()
    for key, value in checkpoint['state_dict'].items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'state_dict.{key} is a '
                            f'{type(value).__name__}, not a tensor')
        state[key] = value.detach().cpu()
    out = dict(state_dict=state)
    if checkpoint.get('meta') is not None:
        out['meta'] = to_plain(checkpoint['meta'])
    return out


def sha256_of(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            digest.update(block)
    return digest.hexdigest()


def save_weights_only(checkpoint: dict, out_file: str) -> None:
    """Write ``checkpoint`` to ``out_file`` only once it loads with
    ``weights_only=True`` (written to ``<out_file>.tmp`` first)."""
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
    tmp = out_file + '.tmp'
    torch.save(checkpoint, tmp)
    torch.load(tmp, map_location='cpu', weights_only=True)  # the promise
    os.replace(tmp, out_file)


def publish(in_file: str, out_file: str, trust: bool = False) -> str:
    """Write the published copy of ``in_file`` (unpickled only when
    ``trust`` or ``CICO_TRUST_CHECKPOINTS=1``); returns its final path
    (``out_file`` without ``.pth`` + ``-<sha256[:8]>.pth``)."""
    checkpoint = tc.load_checkpoint_file(in_file, 'cpu', trust)
    tmp = out_file + '.tmp'
    save_weights_only(publishable(checkpoint), tmp)
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    final = f'{stem}-{sha256_of(tmp)[:8]}.pth'
    os.replace(tmp, final)
    return final


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Publish a checkpoint that loads with weights_only=True')
    parser.add_argument('in_file', help='checkpoint to publish')
    parser.add_argument('out_file', help='output checkpoint (.pth)')
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='IN needs unpickling (a training checkpoint): unpickling can '
        f'run code, only for a file you trust. Same as {tc.TRUST_ENV}=1')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        final = publish(args.in_file, args.out_file, args.trust_checkpoint)
    except (FileNotFoundError, TypeError, tc.UntrustedCheckpointError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    print(final)
    return 0


if __name__ == '__main__':
    sys.exit(main())
