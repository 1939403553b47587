"""Write the compact key/shape fixture of the authors' checkpoints.

    python tools/model_converters/make_reference_key_fixture.py \
        KEYS_JSON [--out tests/data/cico_reference_keys.json.gz]

KEYS_JSON lists, for each of the 18 variants
(``{yolact,condinst}_{r50,r101,swint}_{yt19,ovis,coco}``), every key and shape
of the authors' ``state_dict()`` (``{variant: {"keys": {key: shape}, ...}}``).
The fixture keeps only what the converter tests need - the ordered keys and
shapes, no tensors - as gzip-compressed JSON (about 15 kB):
``{"format": 1, "variants": {variant: [[key, shape], ...]}}``.
``load_fixture`` reads it back; the tests fill the shapes with random values
(:func:`random_state_dict`).
"""
import argparse
import gzip
import json
import os.path as osp
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEFAULT_OUT = osp.join(REPO_ROOT, 'tests', 'data',
                       'cico_reference_keys.json.gz')
FORMAT = 1
KeyShapes = List[Tuple[str, Tuple[int, ...]]]


def compact(keys_json: dict) -> dict:
    """``{variant: {"keys": {key: shape}}}`` -> the fixture's content."""
    variants = OrderedDict()
    for name, entry in keys_json.items():
        variants[name] = [[k, list(s)] for k, s in entry['keys'].items()]
        if len(variants[name]) != entry.get('num_keys', len(variants[name])):
            raise ValueError(f'{name}: num_keys says {entry["num_keys"]}, '
                             f'{len(variants[name])} keys listed')
    return dict(format=FORMAT, variants=variants)


def write_fixture(content: dict, out: str) -> None:
    """Deterministic gzip (no time stamp), so reruns give the same bytes."""
    data = json.dumps(content, separators=(',', ':')).encode()
    with open(out, 'wb') as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))


def load_fixture(path: str = DEFAULT_OUT) -> Dict[str, KeyShapes]:
    """``{variant: [(key, shape), ...]}`` in the authors' key order."""
    with gzip.open(path, 'rt') as f:
        content = json.load(f)
    if content.get('format') != FORMAT:
        raise ValueError(f'{path}: fixture format {content.get("format")}, '
                         f'expected {FORMAT}')
    return {
        name: [(k, tuple(s)) for k, s in keys]
        for name, keys in content['variants'].items()
    }


def random_state_dict(key_shapes: KeyShapes,
                      seed: int = 0) -> 'OrderedDict[str, torch.Tensor]':
    """A state dict with exactly these keys and shapes and random values
    of the right kind: counters and index tables are integers, running
    variances positive, the rest uniform in [-0.5, 0.5).

    The float tensors are views at random offsets into two shared random
    pools, so building one costs no time and little memory while different
    tensors still hold different values.
    """
    gen = torch.Generator().manual_seed(seed)
    numels = [int(torch.Size(s).numel()) for _, s in key_shapes]
    size = max(numels + [1])
    centred = torch.rand(2 * size, generator=gen) - 0.5
    positive = centred[:size] + 0.5 + 1e-3
    state = OrderedDict()
    for (key, shape), numel in zip(key_shapes, numels):
        if key.endswith('num_batches_tracked'):
            value = torch.tensor(1000, dtype=torch.long)
        elif key.endswith('relative_position_index'):
            value = torch.randint(0, 169, shape, generator=gen)
        elif key.endswith('running_var'):
            value = positive[:numel].view(shape)
        else:
            start = int(torch.randint(0, size + 1, (1, ), generator=gen))
            value = centred[start:start + numel].view(shape)
        state[key] = value
    return state


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('keys_json', help='key/shape listing (json)')
    parser.add_argument('--out', default=DEFAULT_OUT, help='fixture path')
    args = parser.parse_args(argv)
    with open(args.keys_json) as f:
        content = compact(json.load(f))
    write_fixture(content, args.out)
    print(f'{len(content["variants"])} variants, '
          f'{sum(map(len, content["variants"].values()))} keys -> '
          f'{args.out} ({osp.getsize(args.out)} bytes)')


if __name__ == '__main__':
    main()
