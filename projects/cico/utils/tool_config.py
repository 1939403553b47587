"""Command line and config loading shared by ``tools/train.py`` and
``tools/test.py``."""
import argparse
import os
import os.path as osp
from typing import Optional, Sequence

from mmdet.utils import setup_cache_size_limit_of_dynamo
from mmengine.config import Config, DictAction

from .trusted_checkpoint import TRUST_ENV, trust_all_checkpoints


def load_tool_config(config: str,
                     cfg_options: Optional[dict] = None,
                     launcher: str = 'none',
                     work_dir: Optional[str] = None) -> Config:
    """The config with ``--cfg-options`` merged, the launcher set and the
    work dir chosen by priority: CLI > config > ``./work_dirs/<config>``."""
    setup_cache_size_limit_of_dynamo()  # fewer dynamo recompilations
    cfg = Config.fromfile(config)
    cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config))[0])
    check_clip_len(cfg)
    return cfg


def _datasets(cfg: dict, where: str):
    """``(key path, dataset config)`` of a dataset config and of the
    datasets it wraps (``ConcatDataset.datasets``, ``dataset`` of a
    repeat / class-balanced wrapper)."""
    if not isinstance(cfg, dict):
        return
    yield where, cfg
    inner = cfg.get('dataset')
    if isinstance(inner, dict):
        yield from _datasets(inner, f'{where}.dataset')
    for i, ds in enumerate(cfg.get('datasets') or []):
        yield from _datasets(ds, f'{where}.datasets.{i}')


def check_clip_len(cfg: Config) -> None:
    """T is one number: the model's ``clip_len`` and the ``clip_len`` of
    every dataset of the train / val / test dataloaders must agree.

    Raises:
        ValueError: naming both keys and values, before anything is built
            (a clip of another length would otherwise fail, or be cut, at
            the first step).
    """
    model = cfg.get('model') or {}
    t = model.get('clip_len')
    if t is None:
        return
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        top = (cfg.get(loader) or {}).get('dataset')
        for where, ds in _datasets(top, f'{loader}.dataset'):
            if ds.get('clip_len', t) != t:
                raise ValueError(
                    f'{where}.clip_len={ds["clip_len"]} but model.clip_len='
                    f'{t}: T must be the same for the model and its data; '
                    f'set both (e.g. --cfg-options model.clip_len=N '
                    f'{where}.clip_len=N)')


def add_runner_args(parser: argparse.ArgumentParser, example: str) -> None:
    """``--cfg-options``, ``--launcher``, ``--local-rank`` (as in mmdet's
    tools) and ``--trust-checkpoint``. ``example`` is a ``key=value`` shown
    in the help."""
    parser.add_argument(
        '--trust-checkpoint',
        action='store_true',
        help='load checkpoints that need unpickling (mmengine training '
        'checkpoints: message hub, numpy values). Unpickling can run code: '
        'only for files you trust. Without it, checkpoints load with '
        f'torch.load(weights_only=True). Same as {TRUST_ENV}=1')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs merged into the '
        f'config, e.g. {example} or key="[a,b]" for lists (quotes needed, '
        'no white space)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    # torch.distributed.launch passes --local-rank (torch >= 2.0);
    # torchrun sets the LOCAL_RANK environment variable instead
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_tool_args(
        parser: argparse.ArgumentParser,
        argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse, export ``LOCAL_RANK`` when the launcher passed it as an
    argument rather than in the environment, and apply
    ``--trust-checkpoint``."""
    args = parser.parse_args(argv)
    if getattr(args, 'trust_checkpoint', False):
        trust_all_checkpoints()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args
