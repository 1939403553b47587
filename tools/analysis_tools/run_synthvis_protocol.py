"""The paper's two-stage protocol on SynthVIS, several seeds, one table.

    python tools/analysis_tools/run_synthvis_protocol.py --fcn yolact \
        [--seeds 3] [--first-seed 0] [--device cpu|cuda]
        [--work-dir DIR] [--data DIR]
        [--stage1-iters N] [--stage2-iters N] [--stage2-lr LR]
        [--inflation authors|centre] [--test-init] [--track-labels K]
        [--eval-videos N]
        [--cfg-options k=v ...]

(defaults: --work-dir work_dirs/synthvis_protocol, --data
data/synthvis_protocol)

1. SynthVIS is generated once with the protocol's settings (``DATA``).
2. Stage 1 (the paper's COCO stage): the frame-level model of
   ``configs/synthvis/<fcn>_r18_stage1_frames.py`` from scratch on frames as
   images, once per FCN; its last checkpoint is published (weights only).
3. Stage 2 (the paper's VIS stage), per seed: CiCo with T = 3
   (``cico_<fcn>_r18_stage2_t3.py``, stage 1 inflated into the 3D towers and
   the CMH) and the FiFo baseline with T = 1 (``fifo_<fcn>_r18_stage2_t1.py``),
   same schedule and frames per step.

``--first-seed S`` runs seeds S .. S + SEEDS - 1 instead of 0 .. SEEDS - 1
(``--seeds 1 --first-seed 2``: seed 2 only, e.g. on a second machine); a later
``--seeds 3`` finds the finished runs and prints the table of all three.

Every run validates on SynthVIS valid during training; a run's result is its
last validation. Finished runs are kept (a ``DONE`` file), an interrupted run
resumes from its last checkpoint, so the command continues where it stopped.
It prints a markdown table (mean and standard deviation over seeds, the
CiCo - FiFo difference) and writes ``<work-dir>/<fcn>/ap_vs_iter.png`` and
``<work-dir>/<fcn>/results.json``.

``--stage2-iters N`` runs stage 2 for N iterations instead of the configs'
600, with the schedule scaled to it (LR steps and the first validation at the
same fractions of the run), from the same stage-1 model. These runs live
beside the default ones (``cico_seed0_<N>it``, ``results_<N>it.json``,
``ap_vs_iter_<N>it.png``), so both schedules can be compared.

``--stage1-iters N`` continues stage 1 past its config's schedule, from its
last checkpoint at its final learning rate, to N iterations (validating every
200; ``stage1ext_<N>it``), and starts stage 2 from that checkpoint instead
(``cico_seed0_stage1-<N>it``, ``results_stage1-<N>it.json``); use it when
stage 1's curve was still rising at its end.

``--stage2-lr LR`` sets stage 2's peak learning rate (both variants; the
warm-up and the steps scale with it), for fine-tuning stage 1 more gently
than the configs' AdamW 1e-3 (``cico_seed0_lr<LR>``, ``results_lr<LR>.json``).

``--inflation centre`` starts CiCo from stage 1 inflated with all of each 3D
kernel's weight on its centre tap (towers and CMH; ``temporal_weights=
'centre'``), instead of the authors' 1/3 per tap in the towers and 0.125,
0.75, 0.125 in the CMH: at iteration 0 CiCo is then the frame-level model on
every frame, and stage 2 learns the temporal taps. The CiCo runs and the
outputs get ``_centre``; FiFo (T = 1, nothing to inflate) is shared.

``--test-init`` also tests both stage-2 models as they start, before any
stage-2 training (stage 1 inflated into CiCo, or loaded into FiFo, by
``tools/model_converters/inflate_checkpoint.py``; ``cico_init``,
``fifo_init``), on the valid split (and with ``--eval-videos N`` on the
larger one), and prints their table: what stage 2 starts from.

``--track-labels K`` also tests every stage-2 run's last checkpoint with
track-level labels (class-agnostic clip NMS, each track output for its K best
classes of its mean class scores, ``docs/track_labels.md``) and prints a second
table; the metrics are kept in ``<run>/track_labels_k<K>.json``.

``--eval-videos N`` also tests every finished run's last checkpoint (stage 1
included) on a larger valid split of N videos, made by the same generator
with the same settings and seed (``<data>_valid<N>``; its first 20 videos are
the protocol's valid split), and prints the tables again on it. On 20 valid
videos (52 objects) the AP of nearby checkpoints moves by a few points, so
differences between rows are easier to resolve on more videos.
The metrics are kept in ``<run>/valid<N>.json`` (with ``--track-labels K``
also ``<run>/valid<N>_track_labels_k<K>.json``).
"""
import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
CONFIG_DIR = osp.join(ROOT, 'configs', 'synthvis')
# the generator settings of the protocol (README, "SynthVIS results")
DATA = dict(
    train_videos=100,
    val_videos=20,
    frames=(10, 30),
    size=(128, 224),
    objects=(1, 4),
    radius=(0.12, 0.3),
    seed=0)
# stage-2 variants: CiCo and FiFo with the project's recipe; ``authors``:
# CiCo with the authors' training and test-time recipe on the same network
VARIANTS = ('cico', 'fifo', 'authors')
DEFAULT_VARIANTS = ('cico', 'fifo')
ROW_NAMES = dict(
    stage1='stage 1: frame-level (T = 1), frames as images',
    stage1ext='stage 1 continued at its final LR (--stage1-iters)',
    cico='stage 2: CiCo, T = 3',
    fifo='stage 2: FiFo, T = 1',
    authors="stage 2: CiCo, T = 3, the authors' recipe")
# (minuend, subtrahend, label) of the difference rows of a table
DIFFERENCES = (('cico', 'fifo', 'CiCo - FiFo'),
               ('authors', 'cico', "authors' recipe - project's recipe"))
COLUMNS = (('AP', 'segm_mAP'), ('AP50', 'segm_mAP_50'),
           ('AP75', 'segm_mAP_75'), ('AR1', 'segm_AR@1'), ('AR10',
                                                           'segm_AR@10'))
FLAT_FRACTION = 0.2  # converged: AP within FLAT_TOL over the last fifth
FLAT_TOL = 1.0
EXT_VAL_INTERVAL = 200  # validations of a continued stage 1 (--stage1-iters)
# --inflation: the CiCo runs' extra --cfg-options
INFLATION = dict(
    authors=[],
    centre=[
        'model.init_cfg.temporal_weights=centre',
        'model.init_cfg.cmh_temporal_weights=centre'
    ])


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description='SynthVIS two-stage protocol (stage 1 frame-level, '
        'stage 2 CiCo T=3 vs FiFo T=1, several seeds)')
    p.add_argument('--fcn', choices=('yolact', 'condinst'), required=True)
    p.add_argument(
        '--seeds', type=int, default=3, help='stage-2 seeds (0: stage 1 only)')
    p.add_argument(
        '--first-seed',
        type=int,
        default=0,
        help='the stage-2 seeds are FIRST .. FIRST + SEEDS - 1 (to add a '
        'seed to finished ones, or to split seeds over machines)')
    p.add_argument(
        '--device',
        choices=('cpu', 'cuda'),
        default=None,
        help='default: cuda when there is one')
    p.add_argument('--work-dir', default='work_dirs/synthvis_protocol')
    p.add_argument('--data', default='data/synthvis_protocol')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for every run (both stages)')
    p.add_argument(
        '--stage1-iters',
        type=int,
        default=None,
        metavar='N',
        help='continue stage 1 at its final LR to N iterations (more than '
        'its config\'s) and start stage 2 from there')
    p.add_argument(
        '--stage2-iters',
        type=int,
        default=None,
        help='stage-2 length (default: the configs\' 600); LR steps and '
        'the first validation scale with it')
    p.add_argument(
        '--stage2-lr',
        type=float,
        default=None,
        metavar='LR',
        help='stage-2 peak learning rate (default: the configs\' 1e-3)')
    p.add_argument(
        '--inflation',
        choices=tuple(INFLATION),
        default='authors',
        help='temporal weights of CiCo\'s inflated 3D kernels (authors: 1/3 '
        'in the towers, 0.125/0.75/0.125 in the CMH; centre: the centre tap)')
    p.add_argument(
        '--variants',
        nargs='+',
        choices=VARIANTS,
        default=list(DEFAULT_VARIANTS),
        help='stage-2 variants to run (authors: CiCo with the authors\' '
        'training and test-time recipe on the same network, '
        'cico_<fcn>_r18_stage2_t3_authors.py)')
    p.add_argument(
        '--test-init',
        action='store_true',
        help='also test both stage-2 models at iteration 0 (inflated from '
        'stage 1, untrained) and print their table')
    p.add_argument(
        '--track-labels',
        type=int,
        metavar='K',
        help='also test every stage-2 run with track-level labels (K per '
        'track, class-agnostic NMS) and print their table')
    p.add_argument(
        '--eval-videos',
        type=int,
        metavar='N',
        help='also test every finished run on a valid split of N videos '
        '(same generator settings and seed) and print its tables')
    args = p.parse_args(argv)
    if args.eval_videos is not None and args.eval_videos < 1:
        p.error('--eval-videos needs N >= 1')
    if args.track_labels is not None and args.track_labels < 1:
        p.error('--track-labels needs K >= 1')
    if args.seeds < 0:
        p.error('--seeds must be >= 0')
    if args.first_seed < 0:
        p.error('--first-seed must be >= 0')
    if args.stage2_lr is not None and not args.stage2_lr > 0:
        p.error('--stage2-lr must be > 0')
    if args.stage2_iters is not None and args.stage2_iters < 100:
        p.error('--stage2-iters must be >= 100 (validation runs every 100)')
    return args


def config_path(fcn: str, row: str) -> str:
    names = dict(
        stage1=f'{fcn}_r18_stage1_frames.py',
        stage1ext=f'{fcn}_r18_stage1_frames.py',
        cico=f'cico_{fcn}_r18_stage2_t3.py',
        fifo=f'fifo_{fcn}_r18_stage2_t1.py',
        authors=f'cico_{fcn}_r18_stage2_t3_authors.py')
    return osp.join(CONFIG_DIR, names[row])


def stage2_schedule(fcn: str, iters: int) -> List[str]:
    """``--cfg-options`` that stretch the stage-2 configs' schedule to
    ``iters`` iterations: the MultiStepLR steps and the first validation
    stay at the same fractions of the run, the warm-up and the validation
    interval stay as they are."""
    from mmengine.config import Config
    cfg = Config.fromfile(config_path(fcn, 'cico'))
    old = cfg.train_cfg.max_iters
    opts = [
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_begin={round(cfg.train_cfg.val_begin * iters / old)}'
    ]
    for i, sched in enumerate(cfg.param_scheduler):
        if sched.type != 'MultiStepLR':
            continue
        steps = ','.join(str(round(m * iters / old)) for m in sched.milestones)
        opts += [
            f'param_scheduler.{i}.milestones=[{steps}]',
            f'param_scheduler.{i}.end={iters}'
        ]
    return opts


def run_env(device: str) -> Dict[str, str]:
    env = dict(os.environ)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    if device == 'cpu':
        env['CUDA_VISIBLE_DEVICES'] = ''
    return env


def run(cmd: List[str], env: Dict[str, str], log: str) -> None:
    print('[protocol] ' + ' '.join(cmd), flush=True)
    with open(log, 'a') as f:
        proc = subprocess.run(
            cmd, env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise SystemExit(f'command failed ({proc.returncode}), see {log}')


def ensure_data(data: str,
                env: Dict[str, str],
                log: str,
                val_videos: Optional[int] = None) -> None:
    """Generate the protocol's SynthVIS under ``data`` unless it is there;
    with ``val_videos``, only a valid split of that many videos (every video
    is a function of the seed, the split and its index, so the first ones are
    the protocol's)."""
    if osp.isfile(osp.join(data, 'annotations', 'valid.json')):
        return
    d = DATA
    train_videos = d['train_videos'] if val_videos is None else 0
    run([
        sys.executable, 'tools/dataset_converters/make_synthvis.py', '--out',
        data, '--train-videos',
        str(train_videos), '--val-videos',
        str(val_videos or d['val_videos']), '--frames', *map(str, d['frames']),
        '--size', *map(str, d['size']), '--objects', *map(str, d['objects']),
        '--radius', *map(str, d['radius']), '--seed',
        str(d['seed'])
    ], env, log)


def train(config: str, work_dir: str, options: Sequence[str],
          env: Dict[str, str], log: str) -> None:
    """Train unless ``work_dir/DONE`` exists; resume an interrupted run.
    ``DONE`` holds the config and the wall-clock seconds of the run (summed
    over the sessions of a resumed run, ``work_dir/SECONDS``)."""
    if osp.isfile(osp.join(work_dir, 'DONE')):
        return
    resume = ['--resume'] if osp.isfile(osp.join(work_dir,
                                                 'last_checkpoint')) else []
    start = time.time()
    try:
        run([
            sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
            *resume, '--cfg-options', *options
        ], env, log)
    finally:  # an interrupted session's time counts too
        seconds = run_seconds(work_dir) + time.time() - start
        os.makedirs(work_dir, exist_ok=True)
        with open(osp.join(work_dir, 'SECONDS'), 'w') as f:
            f.write(f'{seconds:.0f}\n')
    with open(osp.join(work_dir, 'DONE'), 'w') as f:
        f.write(f'{config}\nseconds {seconds:.0f}\n')


def run_seconds(work_dir: str) -> float:
    """Wall-clock training seconds of a run so far (0 when unknown)."""
    path = osp.join(work_dir, 'SECONDS')
    if not osp.isfile(path):
        return 0.
    with open(path) as f:
        return float(f.read().split()[0])


def publish_stage1(work_dir: str) -> str:
    """A weights-only copy of stage 1's last checkpoint (the run's own
    file, so it is trusted), ``stage1-<sha256[:8]>.pth`` and
    ``stage1.pth``; returns the first."""
    from tools.model_converters.publish_model import publish
    marker = osp.join(work_dir, 'PUBLISHED')
    if osp.isfile(marker):
        return open(marker).read().strip()
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        last = f.read().strip()
    final = publish(last, osp.join(work_dir, 'stage1.pth'), trust=True)
    # also under the fixed name the stage-2 configs default to
    shutil.copyfile(final, osp.join(work_dir, 'stage1.pth'))
    with open(marker, 'w') as f:
        f.write(final)
    return final


def val_curve(work_dir: str) -> List[Tuple[int, Dict[str, float]]]:
    """(iteration, metrics in %) of every validation of a run, over all its
    (resumed) sessions, sorted by iteration."""
    points: Dict[int, Dict[str, float]] = {}
    files = sorted(
        glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    for path in files:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                vals = {
                    name: 100 * rec[k]
                    for name, key in COLUMNS
                    for k in rec if k.endswith('/' + key)
                }
                if vals:
                    points[int(rec['step'])] = vals
    return sorted(points.items())


def is_flat(curve: List[Tuple[int, Dict[str, float]]]) -> bool:
    """AP within ``FLAT_TOL`` points over the last fifth of the run."""
    last = curve[-1][0]
    tail = [m['AP'] for it, m in curve if it >= (1 - FLAT_FRACTION) * last]
    return max(tail) - min(tail) <= FLAT_TOL


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    arr = np.asarray(values, dtype=np.float64)
    std = float(arr.std(ddof=1)) if len(arr) > 1 else 0.0
    return float(arr.mean()), std


def fmt(values: Sequence[float]) -> str:
    mean, std = mean_std(values)
    return f'{mean:.1f} ± {std:.1f}' if len(values) > 1 else f'{mean:.1f}'


def table(results: Dict[str, List[Dict[str, float]]]) -> str:
    """Markdown: one row per stage/variant (mean ± std over runs) and the
    CiCo - FiFo difference with its spread."""
    head = '| row | runs | ' + ' | '.join(c for c, _ in COLUMNS) + ' |'
    lines = [head, '|---|---|' + '---|' * len(COLUMNS)]
    for row, runs in results.items():
        cells = [fmt([r[c] for r in runs]) for c, _ in COLUMNS]
        lines.append(f'| {ROW_NAMES[row]} | {len(runs)} | ' +
                     ' | '.join(cells) + ' |')
    for first, second, label in DIFFERENCES:
        runs_a, runs_b = results.get(first, []), results.get(second, [])
        if not (runs_a and runs_b):
            continue
        cells = []
        for c, _ in COLUMNS:
            a, b = [r[c] for r in runs_a], [r[c] for r in runs_b]
            (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
            pooled = float(np.sqrt((sa**2 + sb**2) / 2))
            cells.append(f'{ma - mb:+.1f} (pooled std {pooled:.1f})')
        lines.append(f'| {label} | | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot(curves: Dict[str, List[Tuple[int, Dict[str, float]]]],
         out: str) -> None:
    """Validation AP against iterations of every run, one figure."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    colours = dict(
        stage1='tab:gray',
        stage1ext='black',
        cico='tab:red',
        fifo='tab:blue',
        authors='tab:green')
    for name, curve in curves.items():
        row = row_of(name)
        ax.plot([it for it, _ in curve], [m['AP'] for _, m in curve],
                marker='o',
                markersize=3,
                color=colours[row],
                alpha=0.9 if row.startswith('stage1') else 0.6,
                label=name)
    ax.set_xlabel('iteration (stage 2 counts from its own start)')
    ax.set_ylabel('SynthVIS valid mask AP (%)')
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def run_protocol(args: argparse.Namespace) -> Dict[str, object]:
    """Both stages for one FCN; returns the curves, the final metrics and
    the extra tests' metrics (``tests``: tag -> run -> metrics)."""
    device = args.device or ('cuda' if has_cuda() else 'cpu')
    env = run_env(device)
    root = osp.join(args.work_dir, args.fcn)
    os.makedirs(root, exist_ok=True)
    log = osp.join(root, 'protocol.log')
    ensure_data(args.data, env, log)
    data_opts = [
        f'{split}_dataloader.dataset.data_root={args.data.rstrip("/")}/'
        for split in ('train', 'val', 'test')
    ]
    init, curves = run_stage1(args, root, data_opts, env, log)
    schedule = ([] if args.stage2_iters is None else stage2_schedule(
        args.fcn, args.stage2_iters))
    if args.stage2_lr is not None:
        schedule.append(f'optim_wrapper.optimizer.lr={args.stage2_lr}')
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for variant in args.variants:
            name = f'{variant}_seed{seed}{suffix(args, variant)}'
            train(
                config_path(args.fcn, variant), osp.join(root, name), [
                    *data_opts, f'randomness.seed={seed}',
                    f'model.init_cfg.checkpoint={init}', *schedule,
                    *inflation_options(args, variant), *args.cfg_options
                ], env, log)
            curves[name] = val_curve(osp.join(root, name))
    inits = (
        [init_model(args, root, v, init, env, log)
         for v in args.variants] if args.test_init else [])
    tests = extra_tests(args, root, list(curves), inits,
                        [*data_opts, *args.cfg_options], env, log)
    tails = tail_tests(args, root, list(curves),
                       [*data_opts, *args.cfg_options], env, log)
    seconds = {name: run_seconds(osp.join(root, name)) for name in curves}
    return dict(
        device=device,
        root=root,
        curves=curves,
        seconds=seconds,
        tests=tests,
        tails=tails)


def run_stage1(args: argparse.Namespace, root: str, data_opts: List[str],
               env: Dict[str, str], log: str) -> Tuple[str, Dict[str, list]]:
    """Stage 1 (and its continuation with ``--stage1-iters``); returns
    the published checkpoint stage 2 starts from and the curves."""
    common = [*data_opts, 'randomness.seed=0']
    stage1_dir = osp.join(root, 'stage1')
    train(
        config_path(args.fcn, 'stage1'), stage1_dir,
        [*common, *args.cfg_options], env, log)
    init = publish_stage1(stage1_dir)
    curves = {'stage1': val_curve(stage1_dir)}
    if args.stage1_iters is not None:
        name = f'stage1ext_{args.stage1_iters}it'
        ext_dir = osp.join(root, name)
        more = seed_extension(args.fcn, stage1_dir, ext_dir, args.stage1_iters)
        train(
            config_path(args.fcn, 'stage1ext'), ext_dir,
            [*common, *more, *args.cfg_options], env, log)
        init = publish_stage1(ext_dir)
        curves[name] = val_curve(ext_dir)
    return init, curves


def seed_extension(fcn: str, stage1_dir: str, ext_dir: str,
                   iters: int) -> List[str]:
    """Start the continuation of stage 1 in ``ext_dir`` from stage 1's
    last checkpoint (copied there, so the run resumes from it with its
    optimizer and LR schedule, which has ended at its final LR); returns the
    ``--cfg-options`` of the longer run."""
    from mmengine.config import Config
    old = Config.fromfile(config_path(fcn, 'stage1')).train_cfg.max_iters
    if iters <= old:
        raise SystemExit(f'--stage1-iters {iters} must be more than stage '
                         f'1\'s {old} iterations')
    if not osp.isfile(osp.join(ext_dir, 'last_checkpoint')):
        with open(osp.join(stage1_dir, 'last_checkpoint')) as f:
            last = f.read().strip()
        os.makedirs(ext_dir, exist_ok=True)
        start = osp.join(ext_dir, osp.basename(last))
        shutil.copyfile(last, start)
        with open(osp.join(ext_dir, 'last_checkpoint'), 'w') as f:
            f.write(start)
    return [
        f'train_cfg.max_iters={iters}',
        f'train_cfg.val_interval={EXT_VAL_INTERVAL}'
    ]


def init_model(args: argparse.Namespace, root: str, variant: str, init: str,
               env: Dict[str, str], log: str) -> str:
    """The stage-2 ``variant`` as it starts from the stage-1 checkpoint
    ``init`` (iteration 0), written once into ``<root>/<variant>_init``
    (``_stage1-<N>it`` with ``--stage1-iters``, CiCo's ``_centre`` with
    ``--inflation centre``); returns that name."""
    name = (f'{variant}_init{stage1_suffix(args)}'
            f'{inflation_suffix(args, variant)}')
    ckpt = osp.join(root, name, 'init.pth')
    if not osp.isfile(ckpt):
        os.makedirs(osp.dirname(ckpt), exist_ok=True)
        options = [*inflation_options(args, variant), *args.cfg_options]
        extra = ['--cfg-options', *options] if options else []
        run([
            sys.executable, 'tools/model_converters/inflate_checkpoint.py',
            config_path(args.fcn, variant), init, ckpt, *extra
        ], env, log)
    with open(osp.join(root, name, 'last_checkpoint'), 'w') as f:
        f.write(ckpt)
    return name


def eval_split(args: argparse.Namespace) -> Tuple[str, str, List[str]]:
    """``--eval-videos N``'s larger valid split: its data root, the cache
    tag of its tests and the test options that select it."""
    data = f'{args.data.rstrip("/")}_valid{args.eval_videos}'
    return (data, f'valid{args.eval_videos}',
            [f'test_dataloader.dataset.data_root={data}/'])


def extra_tests(
        args: argparse.Namespace, root: str, names: Sequence[str],
        inits: Sequence[str], options: Sequence[str], env: Dict[str, str],
        log: str) -> Dict[str, Tuple[str, Dict[str, Dict[str, float]]]]:
    """The tests asked for by ``--test-init`` (the untrained stage-2
    models ``inits``), ``--track-labels`` (stage-2 runs) and
    ``--eval-videos`` (every run): key -> (title, run name -> metrics in
    %)."""
    stage2 = [n for n in names if not row_of(n).startswith('stage1')]
    init_title = ('stage-2 models at iteration 0 (stage 1 inflated, '
                  'untrained; --test-init)')
    # (key, cache tag, title, options, runs)
    plans = [('init', 'valid', init_title, [], inits)] if inits else []
    labels = [
        'model.test_cfg.nms.class_agnostic=True',
        f'test_evaluator.labels_per_track={args.track_labels}'
    ]
    labels_tag = f'track_labels_k{args.track_labels}'
    labels_title = (f'with track-level labels ({args.track_labels} per '
                    'track, class-agnostic clip NMS; docs/track_labels.md)')
    if args.track_labels:
        plans.append((labels_tag, labels_tag, labels_title, labels, stage2))
    if args.eval_videos:
        data, big_tag, big = eval_split(args)
        ensure_data(data, env, log, val_videos=args.eval_videos)
        big_title = (f'on a valid split of {args.eval_videos} videos '
                     f'({data}), one test of each run\'s last checkpoint')
        plans.append((big_tag, big_tag, big_title, big, names))
        if args.track_labels:
            tag = f'{big_tag}_{labels_tag}'
            plans.append((tag, tag, f'{big_title}, {labels_title}',
                          big + labels, stage2))
        if inits:
            plans.append((f'init_{big_tag}', big_tag,
                          f'{init_title}, {big_title}', big, inits))
    return {
        key: (title, {
            name:
            test_last(
                config_path(args.fcn, row_of(name)), osp.join(root, name), tag,
                [*options, *extra], env, log)
            for name in runs
        })
        for key, tag, title, extra, runs in plans
    }


def test_last(config: str,
              work_dir: str,
              tag: str,
              options: Sequence[str],
              env: Dict[str, str],
              log: str,
              ckpt: Optional[str] = None) -> Dict[str, float]:
    """Metrics (in %) of a run's last checkpoint (or ``ckpt``) tested with
    ``options`` (after the run's own); cached in ``work_dir/<tag>.json``."""
    out = osp.join(work_dir, f'{tag}.json')
    if not osp.isfile(out):
        if ckpt is None:
            with open(osp.join(work_dir, 'last_checkpoint')) as f:
                ckpt = f.read().strip()
        run([
            sys.executable, 'tools/test.py', config, ckpt,
            '--trust-checkpoint', '--work-dir',
            osp.join(work_dir,
                     f'test_{tag}'), '--out', out, '--cfg-options', *options
        ], env, log)
    with open(out) as f:
        metrics = json.load(f)
    return {
        name: 100 * v
        for name, key in COLUMNS
        for m, v in metrics.items() if m.endswith('/' + key)
    }


def iteration_of(ckpt: str) -> int:
    """The iteration of an ``iter_<N>.pth`` checkpoint."""
    return int(osp.basename(ckpt)[len('iter_'):-len('.pth')])


def last_iteration(work_dir: str) -> int:
    """The iteration of a run's last checkpoint."""
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return iteration_of(f.read().strip())


def tail_checkpoints(work_dir: str) -> List[Tuple[int, str]]:
    """(iteration, path) of the checkpoints kept in a run's last fifth
    before its last one, by iteration (the stage-2 configs keep three)."""
    last = last_iteration(work_dir)
    kept = [(iteration_of(p), p)
            for p in glob.glob(osp.join(work_dir, 'iter_*.pth'))]
    return sorted(
        (it, p) for it, p in kept if (1 - FLAT_FRACTION) * last <= it < last)


def tail_tests(args: argparse.Namespace, root: str, names: Sequence[str],
               options: Sequence[str], env: Dict[str, str],
               log: str) -> Dict[str, List[Tuple[int, Dict[str, float]]]]:
    """With ``--eval-videos N``: every run's kept checkpoints of its last
    fifth tested on the larger split too (cached ``valid<N>_iter<I>.json``),
    so that convergence can be judged there: run -> [(iteration, metrics
    in %)], the last checkpoint's test included; runs with one kept
    checkpoint in their last fifth are left out."""
    if not args.eval_videos:
        return {}
    _, tag, big = eval_split(args)
    curves = {}
    for name in names:
        work_dir = osp.join(root, name)
        config = config_path(args.fcn, row_of(name))
        tail = [(it,
                 test_last(config, work_dir, f'{tag}_iter{it}',
                           [*options, *big], env, log, ckpt))
                for it, ckpt in tail_checkpoints(work_dir)]
        if tail:
            curves[name] = tail + [(last_iteration(work_dir),
                                    test_last(config, work_dir, tag,
                                              [*options, *big], env, log))]
    return curves


def suffix(args: argparse.Namespace, variant: str = 'cico') -> str:
    """Name suffix of the stage-2 runs of ``variant`` and of the outputs
    (the CiCo one) for a non-default ``--stage1-iters`` / ``--stage2-iters``
    / ``--stage2-lr`` / ``--inflation``."""
    s2 = '' if args.stage2_iters is None else f'_{args.stage2_iters}it'
    lr = '' if args.stage2_lr is None else f'_lr{args.stage2_lr:g}'
    return stage1_suffix(args) + s2 + lr + inflation_suffix(args, variant)


def inflation_suffix(args: argparse.Namespace, variant: str) -> str:
    """``_<inflation>`` for CiCo with a non-default ``--inflation`` (FiFo
    has nothing to inflate: its runs are shared)."""
    return ('' if args.inflation == 'authors' or variant != 'cico' else
            f'_{args.inflation}')


def inflation_options(args: argparse.Namespace, variant: str) -> List[str]:
    """``--cfg-options`` of ``--inflation`` for ``variant``."""
    return INFLATION[args.inflation] if variant == 'cico' else []


def stage1_suffix(args: argparse.Namespace) -> str:
    """Name suffix of what starts from a continued stage 1."""
    return (''
            if args.stage1_iters is None else f'_stage1-{args.stage1_iters}it')


def row_of(name: str) -> str:
    """The table row of a run: ``stage1``, ``stage1ext``, ``cico`` or
    ``fifo``."""
    return name.split('_')[0]


def by_row(
        metrics: Dict[str, Dict[str,
                                float]]) -> Dict[str, List[Dict[str, float]]]:
    """Runs' metrics grouped by their table row."""
    rows: Dict[str, List[Dict[str, float]]] = {}
    for name, m in metrics.items():
        rows.setdefault(row_of(name), []).append(m)
    return rows


def has_cuda() -> bool:
    import torch
    return torch.cuda.is_available()


def main(argv=None) -> None:
    args = parse_args(argv)
    out = run_protocol(args)
    curves = out['curves']
    for name, curve in curves.items():
        if not curve:
            raise SystemExit(f'run {name} has no validation result')
    results = by_row({name: curve[-1][1] for name, curve in curves.items()})
    flat = {name: is_flat(curve) for name, curve in curves.items()}
    png = osp.join(out['root'], f'ap_vs_iter{suffix(args)}.png')
    plot(curves, png)
    with open(osp.join(out['root'], f'results{suffix(args)}.json'), 'w') as f:
        json.dump(
            dict(
                data=DATA,
                curves=curves,
                flat=flat,
                train_seconds=out['seconds']),
            f,
            indent=1)
    print()
    print(table(results))
    length = ('' if args.stage1_iters is None else
              f', stage 1 continued to {args.stage1_iters} iterations')
    length += ('' if args.stage2_iters is None else
               f', stage 2 {args.stage2_iters} iterations')
    length += ('' if args.stage2_lr is None else
               f', stage-2 learning rate {args.stage2_lr:g}')
    length += ('' if args.inflation == 'authors' else
               f', CiCo inflated with {args.inflation} temporal weights')
    seeds = (f'{args.seeds} seed(s)' if args.first_seed == 0 else
             f'seeds {args.first_seed}-{args.first_seed + args.seeds - 1}')
    print(f'\n{args.fcn}, {seeds}{length}, '
          f'device {out["device"]}; '
          f'SynthVIS valid, YouTube-VIS mask AP in %, mean ± sample std')
    bent = [n for n, ok in flat.items() if not ok]
    print('converged (AP within 1 point over the last fifth): ' +
          ('all runs' if not bent else 'not ' + ', '.join(bent)))
    print('training time (wall clock, min): ' +
          ', '.join(f'{name} {s / 60:.0f}'
                    for name, s in out['seconds'].items()))
    print(f'curves: {png}')
    for title, runs in out['tests'].values():
        print(f'\n{title}:\n')
        print(table(by_row(runs)))
    if out['tails']:
        print(
            f'\nAP over the last fifth on the {args.eval_videos}-video split '
            '(the kept checkpoints; flat: within 1 point):')
        for name, tail in out['tails'].items():
            aps = ' / '.join(f"{m['AP']:.1f}" for _, m in tail)
            its = '/'.join(str(it) for it, _ in tail)
            state = 'flat' if is_flat(tail) else 'not flat'
            print(f'  {name}: {aps} at {its} ({state})')


if __name__ == '__main__':
    main()
