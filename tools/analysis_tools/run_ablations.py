"""Train and test ablation rows (configs/ablations) on a chosen base and print
a markdown table of YouTube-VIS AP per row.

    python tools/analysis_tools/run_ablations.py --rows table1b table2
        [--base configs/cico_yolact_r18_synthvis.py]
        [--work-dir work_dirs/ablations] [--cfg-options k=v ...]

--rows takes file names or prefixes of configs/ablations/*.py. Every row is
rebased on --base with CICO_ABLATION_BASE (see configs/ablations/README.md).
Rows whose training is identical (they differ only in test-time keys, like
Table 2's overlap T_o) share one trained checkpoint. Finished rows are not
trained again (their checkpoint and metrics are kept in the work dir), so an
interrupted run continues where it stopped.
"""
import argparse
import glob
import hashlib
import json
import os
import os.path as osp
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
    return p.parse_args(argv)


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


def main(argv=None):
    args = parse_args(argv)
    env = row_env(args.base)
    py = sys.executable
    os.makedirs(args.work_dir, exist_ok=True)
    results = {}
    for row in select_rows(args.rows):
        cfg_path = osp.join(ABLATIONS, row + '.py')
        key = training_key(cfg_path, env, args.cfg_options)
        train_dir = osp.join(args.work_dir, 'train_' + key)
        log = osp.join(args.work_dir, row + '.log')
        metrics_file = osp.join(args.work_dir, row + '_metrics.pkl')
        extra = ['--cfg-options', *args.cfg_options] \
            if args.cfg_options else []
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
                osp.join(args.work_dir, 'test_' + row), '--out', metrics_file,
                *extra
            ], env, log)
        import mmengine
        results[row] = mmengine.load(metrics_file)
    print()
    print('| row | ' + ' | '.join(c for c, _ in COLUMNS) + ' |')
    print('|---|' + '---|' * len(COLUMNS))
    for row, metrics in results.items():
        vals = []
        for _, key in COLUMNS:
            v = [m for k, m in metrics.items() if k.endswith('/' + key)]
            vals.append(f'{100 * v[0]:.1f}' if v else '-')
        print(f'| {row} | ' + ' | '.join(vals) + ' |')
    print(f'\nbase: {args.base}; AP in %, YouTube-VIS metric')


if __name__ == '__main__':
    main()
