"""Plot training losses (and validation AP) from an mmengine log.

    python tools/analysis_tools/plot_loss.py \
        WORK_DIR/<timestamp>/vis_data/scalars.json
        [--keys loss loss_mask loss_cls] [--out loss.png]

Prints the values every ``--every`` iterations as a small table too. (mmdet's
analyze_logs.py needs seaborn, which this project does not install.)
"""
import argparse
import json
import os.path as osp

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    """Training records, and (iteration, segm_mAP) of each validation: a
    validation record follows the training record of its iteration."""
    train, ap = [], []
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if 'loss' in rec:
                train.append(rec)
                continue
            step = train[-1].get('iter', train[-1].get('step')) if train else 0
            ap += [(step, v) for k, v in rec.items() if k.endswith('segm_mAP')]
    return train, ap


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('log', help='vis_data/scalars.json of a run')
    p.add_argument('--keys', nargs='+', default=['loss'])
    p.add_argument('--out', default=None)
    p.add_argument('--every', type=int, default=100)
    args = p.parse_args(argv)
    if not osp.isfile(args.log):
        raise SystemExit(f'log {args.log} not found')
    train, ap = load(args.log)
    if not train:
        raise SystemExit(f'no training record in {args.log}')
    x = 'iter' if 'iter' in train[0] else 'step'
    print('| iter | ' + ' | '.join(args.keys) + ' |')
    print('|---|' + '---|' * len(args.keys))
    for rec in train:
        if rec[x] % args.every == 0 or rec is train[-1]:
            print(f'| {rec[x]} | ' +
                  ' | '.join(f'{rec.get(k, float("nan")):.3f}'
                             for k in args.keys) + ' |')
    for step, v in ap:
        print(f'validation at {step}: segm_mAP {v:.3f}')
    if args.out:
        fig, ax = plt.subplots(figsize=(7, 4))
        for k in args.keys:
            pts = [(r[x], r[k]) for r in train if k in r]
            ax.plot(*zip(*pts), label=k)
        ax.set_xlabel(x)
        ax.set_ylabel('loss')
        ax.set_yscale('log')
        ax.grid(alpha=.3)
        ax.legend()
        if ap:
            ax2 = ax.twinx()
            ax2.plot(*zip(*ap), 'ko--', label='val segm_mAP')
            ax2.set_ylabel('val segm_mAP')
        fig.tight_layout()
        fig.savefig(args.out, dpi=120)
        print(f'saved {args.out}')


if __name__ == '__main__':
    main()
