"""Test (evaluate or export) a CiCo model (mmdet-style CLI).

    python tools/test.py CONFIG CHECKPOINT        # AP on a split with GT
    python tools/test.py CONFIG CHECKPOINT --format-only --outfile-prefix P
        # -> P.json and P.submission_file.zip (results.json inside, CodaLab)
    bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [same options]

Without CUDA the distributed backend switches to gloo.
"""
import argparse
import os.path as osp
import sys

# the repo root first on sys.path, so `projects.cico` imports without install
REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

import mmengine  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.dist import is_main_process  # noqa: E402
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


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (evaluate or export) a CiCo VIS model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir',
        help='directory for the log and metrics (default: work_dir of the '
        'config, else ./work_dirs/<config name>)')
    parser.add_argument(
        '--out',
        help='dump the metrics dict returned by the test (e.g. '
        '{"youtube_vis/segm_mAP": ...}) to this file with mmengine.dump '
        '(.pkl, .json or .yaml). Predictions are written by the evaluator: '
        'use --format-only/--outfile-prefix for results.json')
    parser.add_argument(
        '--show-dir',
        help='draw the predictions of the test frames into this directory '
        '(<DIR>/<video>/<frame>.jpg; a relative DIR is relative to the '
        'current directory)')
    parser.add_argument(
        '--format-only',
        action='store_true',
        help='only export the predictions (results.json + CodaLab '
        'submission zip), no AP; for splits without ground truth')
    parser.add_argument(
        '--outfile-prefix',
        help='prefix P of the exported files P.json and '
        'P.submission_file.zip (default with --format-only: '
        '<work_dir>/results)')
    parser.add_argument(
        '--fp16',
        action='store_true',
        help='run the network in half precision (autocast: float16 on '
        'CUDA, bfloat16 on the CPU); the post-processing stays float32 '
        '(model.test_cfg.fp16=True)')
    parser.add_argument(
        '--fuse-conv-bn',
        action='store_true',
        help='fold the batch norms into the convs before testing (same '
        'results up to float rounding; speed: docs/speed.md)')
    parser.add_argument(
        '--channels-last',
        action='store_true',
        help='conv weights in channels-last memory format (same results; '
        'speed: docs/speed.md)')
    add_runner_args(parser, example='test_dataloader.num_workers=0')
    return parse_tool_args(parser, argv)


def evaluator_cfgs(evaluator) -> list:
    """The metric configs of a test evaluator given as a dict (one metric or
    ``dict(type='Evaluator', metrics=...)``) or a list of dicts."""
    if evaluator is None:
        return []
    if isinstance(evaluator, (list, tuple)):
        return [m for e in evaluator for m in evaluator_cfgs(e)]
    if 'metrics' in evaluator:  # explicit Evaluator wrapper
        return evaluator_cfgs(evaluator['metrics'])
    return [evaluator]


def setup_export(cfg: Config,
                 format_only: bool,
                 outfile_prefix: str = None) -> None:
    """Apply --format-only / --outfile-prefix to every test metric."""
    if format_only and outfile_prefix is None:
        outfile_prefix = osp.join(cfg.work_dir, 'results')
    metrics = evaluator_cfgs(cfg.get('test_evaluator', None))
    if not metrics:
        sys.exit('the config has no test_evaluator: cannot export or '
                 'evaluate the predictions')
    for metric in metrics:
        if format_only:
            metric['format_only'] = True
        if outfile_prefix is not None:
            metric['outfile_prefix'] = outfile_prefix


def setup_show_dir(cfg: Config, show_dir: str) -> None:
    """Enable the visualization hook, writing into ``show_dir``."""
    hooks = cfg.get('default_hooks', None) or {}
    if 'visualization' not in hooks:
        sys.exit('--show-dir needs default_hooks.visualization (e.g. '
                 "dict(type='TrackVisualizationHook')) in the config")
    vis = cfg.default_hooks.visualization
    vis['draw'] = True
    # absolute: mmdet's TrackVisualizationHook joins work_dir/timestamp to
    # a relative test_out_dir again at every iteration (nested folders)
    vis['test_out_dir'] = osp.abspath(show_dir)


def main(argv=None) -> None:
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'config file not found: {args.config}')
    if not osp.isfile(osp.expanduser(args.checkpoint)):
        sys.exit(f'checkpoint file not found: {args.checkpoint}')
    if args.outfile_prefix is not None and not args.format_only:
        print('[cico] --outfile-prefix without --format-only: the prefix is '
              'passed to the evaluator, which writes files only in '
              'format-only mode')

    cfg = load_tool_config(args.config, args.cfg_options, args.launcher,
                           args.work_dir)

    cfg.load_from = args.checkpoint
    if args.fp16:
        cfg.model.setdefault('test_cfg', {})['fp16'] = True
    # test-time speed switches: hooks that run after the checkpoint is loaded
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type=hook) for flag, hook in (
            ('fuse_conv_bn', 'FuseConvBNHook'),
            ('channels_last', 'ChannelsLastHook')) if getattr(args, flag)
    ]
    if args.format_only or args.outfile_prefix is not None:
        setup_export(cfg, args.format_only, args.outfile_prefix)
    if args.show_dir is not None:
        setup_show_dir(cfg, args.show_dir)

    setup_cpu_distributed(cfg, args.launcher)
    if 'runner_type' not in cfg:
        runner = Runner.from_cfg(cfg)
    else:
        runner = RUNNERS.build(cfg)
    try:
        metrics = runner.test()
    except UntrustedCheckpointError as error:
        sys.exit(f'error: {error}')

    if is_main_process():
        if metrics:
            print('[cico] test metrics:')
            for key, value in metrics.items():
                print(f'  {key}: {value}')
        else:
            print('[cico] test finished (no metrics: format-only export)')
        if args.format_only:
            prefixes = sorted({
                m['outfile_prefix']
                for m in evaluator_cfgs(cfg.test_evaluator)
                if m.get('outfile_prefix')
            })
            for prefix in prefixes:
                print(f'[cico] predictions: {prefix}.json, '
                      f'{prefix}.submission_file.zip')
        if args.out is not None:
            mmengine.dump(dict(metrics or {}), args.out)
            print(f'[cico] metrics written to {args.out}')
    teardown_distributed()


if __name__ == '__main__':
    main()
