"""Train a CiCo model (mmdet-style CLI).

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
                                [--auto-scale-lr] [--cfg-options k=v ...]
    bash tools/dist_train.sh CONFIG GPUS [same options]     # torchrun + DDP

Without CUDA the distributed backend switches to gloo, so
``bash tools/dist_train.sh CONFIG 2`` also runs on a CPU machine.
"""
import argparse
import os.path as osp
import sys

# the repo root first on sys.path, so `projects.cico` imports without install
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import torch  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

# registers CiCo modules and the weights-only checkpoint loader
import projects.cico  # noqa: E402,F401
from projects.cico.utils import UntrustedCheckpointError  # noqa: E402
from projects.cico.utils import add_runner_args  # noqa: E402
from projects.cico.utils import load_tool_config  # noqa: E402
from projects.cico.utils import parse_tool_args  # noqa: E402
from projects.cico.utils import setup_cpu_distributed  # noqa: E402
from projects.cico.utils import teardown_distributed  # noqa: E402
from projects.cico.utils import trust_directory  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a CiCo VIS model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--work-dir',
        help='directory for logs and checkpoints (default: work_dir of the '
        'config, else ./work_dirs/<config name>)')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='automatic mixed precision (AmpOptimWrapper, dynamic loss '
        'scale); needs CUDA')
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by (total batch size) / '
        'auto_scale_lr.base_batch_size of the config')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from this checkpoint; without a path, resume from the '
        'latest checkpoint in the work dir. The files of the work dir are '
        'trusted (unpickled); a checkpoint elsewhere needs '
        '--trust-checkpoint')
    add_runner_args(parser, example='train_cfg.max_iters=10')
    return parse_tool_args(parser, argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'config file not found: {args.config}')

    cfg = load_tool_config(args.config, args.cfg_options, args.launcher,
                           args.work_dir)

    if args.amp:
        if not torch.cuda.is_available():
            sys.exit('--amp needs CUDA (mmengine AmpOptimWrapper uses a CUDA '
                     'GradScaler); CUDA is not available on this machine. '
                     'Train without --amp.')
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('[cico] AMP is already enabled in the config')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if args.auto_scale_lr:
        auto_scale_lr = cfg.get('auto_scale_lr', None)
        if not auto_scale_lr or 'base_batch_size' not in auto_scale_lr:
            sys.exit('--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                     'the config, e.g. auto_scale_lr = dict(enable=False, '
                     'base_batch_size=24)')
        cfg.auto_scale_lr.enable = True

    # resume: an explicit checkpoint, or 'auto' = latest in work_dir
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            sys.exit(f'--resume checkpoint not found: {args.resume}')
        cfg.resume = True
        cfg.load_from = args.resume
    if args.resume is not None:  # the run's own training state
        trust_directory(cfg.work_dir)

    setup_cpu_distributed(cfg, args.launcher)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    try:
        runner.train()
    except UntrustedCheckpointError as error:
        sys.exit(f'error: {error}')
    teardown_distributed()


if __name__ == '__main__':
    main()
