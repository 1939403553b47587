"""Train and test ablation rows (configs/ablations) on a chosen base and print
a markdown table of YouTube-VIS AP per row.

    python tools/analysis_tools/run_ablations.py --rows table1b table2
        [--base configs/cico_yolact_r18_synthvis.py]
        [--work-dir work_dirs/ablations] [--cfg-options k=v ...]
        [--seeds 3] [--base-runs 'work_dirs/protocol/cico_seed{seed}']
        [--test-cfg-options k=v ... [--test-tag NAME]]

--rows takes file names or prefixes of configs/ablations/*.py. Every row is
rebased on --base with CICO_ABLATION_BASE (see configs/ablations/README.md).
Rows whose training is identical (they differ only in test-time keys, like
Table 2's overlap T_o) share one trained checkpoint. Finished rows are not
trained again (their checkpoint and metrics are kept in the work dir), so an
interrupted run continues where it stopped.

--seeds N runs every row with randomness.seed 0..N-1 (work dir
WORK_DIR/seed<k>) and tabulates the mean and sample standard deviation.
--base-runs gives finished trainings of the base itself (a pattern with
{seed}, e.g. the SynthVIS protocol's stage-2 CiCo runs): rows whose training
equals the base's (test-time rows such as Table 2) are tested on their last
checkpoint instead of being trained again.

--test-cfg-options go to the tests only (after --cfg-options), so finished
rows are tested again without training, e.g. on another valid split
(``test_dataloader.dataset.data_root=DIR/``); their metrics are kept apart,
in ``<row>_<tag>_metrics.pkl`` (tag: --test-tag, default a hash of the
options).
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
import statistics
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)
ABLATIONS = osp.join(ROOT, 'configs', 'ablations')
TRAIN_KEYS = ('model', 'train_dataloader', 'train_cfg', 'optim_wrapper',
              'param_scheduler', 'load_from', 'randomness')
TEST_ONLY_MODEL_KEYS = ('test_cfg', 'tracker')
COLUMNS = (('AP', 'segm_mAP'), ('AP50', 'segm_mAP_50'),
           ('AP75', 'segm_mAP_75'), ('AR1', 'segm_AR@1'), ('AR10',
                                                           'segm_AR@10'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='run CiCo ablation rows')
    p.add_argument(
        '--rows',
        nargs='+',
        required=True,
        help='ablation file names or prefixes, e.g. table1b')
    p.add_argument('--base', default='configs/cico_yolact_r18_synthvis.py')
    p.add_argument('--work-dir', default='work_dirs/ablations')
    p.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='extra key=value overrides for every row')
    p.add_argument(
        '--seeds',
        type=int,
        default=0,
        help='runs per row with randomness.seed 0..N-1 (0: one run with the '
        'config\'s seed)')
    p.add_argument(
        '--base-runs',
        help='your own finished trainings of the base (their checkpoints '
        'load as trusted), a directory pattern with {seed}; rows that train '
        'like the base are only tested on them')
    p.add_argument(
        '--test-cfg-options',
        nargs='+',
        default=[],
        help='key=value overrides for the tests only (not the trainings)')
    p.add_argument(
        '--test-tag',
        help='name of the --test-cfg-options tests in the metrics files '
        '(default: a hash of those options)')
    args = p.parse_args(argv)
    if args.test_tag and not args.test_cfg_options:
        p.error('--test-tag needs --test-cfg-options')
    if args.test_tag and not args.test_tag.replace('_', '').isalnum():
        p.error('--test-tag takes letters, digits and _ only')
    if args.seeds < 0:
        p.error('--seeds must be >= 0')
    if args.base_runs and '{seed}' not in args.base_runs and args.seeds > 1:
        p.error('--base-runs needs {seed} in it with --seeds > 1')
    return args


def select_rows(patterns):
    files = sorted(glob.glob(osp.join(ABLATIONS, '*.py')))
    names = [osp.splitext(osp.basename(f))[0] for f in files]
    rows = []
    for pat in patterns:
        hit = [n for n in names if n == pat or n.startswith(pat)]
        if not hit:
            raise SystemExit(f'no ablation matches {pat!r}; known: '
                             f'{", ".join(names)}')
        rows += [n for n in hit if n not in rows]
    return rows


def row_env(base):
    env = dict(os.environ)
    env['CICO_ABLATION_BASE'] = osp.relpath(osp.abspath(base), ABLATIONS)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    return env


def training_key(cfg_path, env, options):
    """A hash of everything that decides the trained weights."""
    from mmengine.config import Config, DictAction
    old = os.environ.get('CICO_ABLATION_BASE')
    os.environ['CICO_ABLATION_BASE'] = env['CICO_ABLATION_BASE']
    try:
        cfg = Config.fromfile(cfg_path)
    finally:
        if old is None:
            os.environ.pop('CICO_ABLATION_BASE')
        else:
            os.environ['CICO_ABLATION_BASE'] = old
    if options:
        parser = argparse.ArgumentParser()
        parser.add_argument('--o', nargs='+', action=DictAction)
        cfg.merge_from_dict(parser.parse_args(['--o', *options]).o)
    parts = {k: cfg.get(k) for k in TRAIN_KEYS}
    model = dict(parts['model'])
    for k in TEST_ONLY_MODEL_KEYS:
        model.pop(k, None)
    parts['model'] = model
    blob = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(blob.encode()).hexdigest()[:12]


def run(cmd, env, log):
    print('[ablations] ' + ' '.join(cmd), flush=True)
    with open(log, 'a') as f:
        proc = subprocess.run(
            cmd, env=env, cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        raise SystemExit(f'command failed ({proc.returncode}), see {log}')


def last_checkpoint(work_dir):
    path = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(path):
        return None
    ckpt = open(path).read().strip()
    return ckpt if osp.isfile(ckpt) else None


def base_checkpoint(pattern, seed):
    """The last checkpoint of the base's finished training for ``seed``."""
    run_dir = pattern.format(seed=seed)
    ckpt = last_checkpoint(run_dir)
    if ckpt is None:
        raise SystemExit(f'--base-runs: {run_dir} has no last_checkpoint '
                         'pointing to an existing file')
    return ckpt


def run_rows(args, env, work_dir, options, seed):
    """Train (unless shared or finished) and test every row once; returns
    ``{row: metrics}``."""
    py = sys.executable
    os.makedirs(work_dir, exist_ok=True)
    base_key = (
        training_key(osp.abspath(args.base), env, options)
        if args.base_runs else None)
    extra = ['--cfg-options', *options] if options else []
    tests = [*options, *args.test_cfg_options]
    test_extra = ['--cfg-options', *tests] if tests else []
    tag = test_tag(args)
    results = {}
    for row in select_rows(args.rows):
        cfg_path = osp.join(ABLATIONS, row + '.py')
        key = training_key(cfg_path, env, options)
        log = osp.join(work_dir, row + '.log')
        metrics_file = osp.join(work_dir, f'{row}{tag}_metrics.pkl')
        if key == base_key:
            ckpt = base_checkpoint(args.base_runs, seed)
        else:
            train_dir = osp.join(work_dir, 'train_' + key)
            marker = osp.join(train_dir, 'DONE')
            if not osp.isfile(marker):
                resume = ['--resume'] if last_checkpoint(train_dir) else []
                run([
                    py, 'tools/train.py', cfg_path, '--work-dir', train_dir,
                    *resume, *extra
                ], env, log)
                open(marker, 'w').write(row)
            ckpt = last_checkpoint(train_dir)
        if not osp.isfile(metrics_file):
            run([
                py, 'tools/test.py', cfg_path, ckpt, '--work-dir',
                osp.join(work_dir, f'test_{row}{tag}'), '--out', metrics_file,
                '--trust-checkpoint', *test_extra
            ], env, log)
        import mmengine
        results[row] = mmengine.load(metrics_file)
    return results


def test_tag(args):
    """``''`` or ``'_<tag>'`` for the tests with --test-cfg-options."""
    if not args.test_cfg_options:
        return ''
    if args.test_tag:
        return '_' + args.test_tag
    blob = ' '.join(args.test_cfg_options).encode()
    return '_' + hashlib.sha1(blob).hexdigest()[:8]


def cell(values):
    """``mean`` for one run, ``mean ± sample std`` for several (in %)."""
    if not values:
        return '-'
    vals = [100 * v for v in values]
    if len(vals) == 1:
        return f'{vals[0]:.1f}'
    return f'{statistics.mean(vals):.1f} ± {statistics.stdev(vals):.1f}'


def table(per_seed):
    """Markdown table over the runs of every row."""
    rows = list(per_seed[0])
    lines = [
        '| row | runs | ' + ' | '.join(c for c, _ in COLUMNS) + ' |',
        '|---|---|' + '---|' * len(COLUMNS)
    ]
    for row in rows:
        cells = []
        for _, key in COLUMNS:
            vals = [
                m for res in per_seed for k, m in res[row].items()
                if k.endswith('/' + key)
            ]
            cells.append(cell(vals))
        lines.append(f'| {row} | {len(per_seed)} | ' + ' | '.join(cells) +
                     ' |')
    return '\n'.join(lines)


def main(argv=None):
    args = parse_args(argv)
    env = row_env(args.base)
    if args.seeds == 0:
        per_seed = [
            run_rows(args, env, args.work_dir, args.cfg_options, seed=0)
        ]
    else:
        per_seed = [
            run_rows(
                args,
                env,
                osp.join(args.work_dir, f'seed{k}'),
                [*args.cfg_options, f'randomness.seed={k}'],
                seed=k) for k in range(args.seeds)
        ]
    print()
    print(table(per_seed))
    tested = (f'; tests with {" ".join(args.test_cfg_options)}'
              if args.test_cfg_options else '')
    print(f'\nbase: {args.base}; AP in %, YouTube-VIS metric{tested}' +
          (f'; mean ± sample std over seeds 0-{args.seeds - 1}' if args.seeds >
           1 else ''))


if __name__ == '__main__':
    main()
