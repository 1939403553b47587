"""Temporal coherence of a VIS dataset: T-BIoU / T-MIoU histograms (the CiCo
paper's Fig. 3).

Example::

    python tools/analysis_tools/temporal_coherence.py \
        data/youtube_vis_2019/annotations/train.json \
        --deltas 1 2 3 4 --out coherence.png

Prints one line per delta, e.g. ``delta=1 PB>=0.75=0.702 PM>=0.75=0.553``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

import numpy as np  # noqa: E402

from projects.cico.evaluation.temporal_coherence import (  # noqa: E402
    DEFAULT_DELTAS, DEFAULT_THR, proportion_at_least, temporal_coherence)

DEFAULT_BIN_STEP = 0.05  # Fig. 3 of the paper
SUBPLOT_SIZE = (3.2, 2.6)  # inches per histogram
FIG_DPI = 120
ROWS = (('biou', 'T-BIoU', 'PB', 'tab:blue'), ('miou', 'T-MIoU', 'PM',
                                               'tab:orange'))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=('T-BIoU / T-MIoU temporal coherence of a YouTube-VIS '
                     'style annotation json'))
    parser.add_argument(
        'ann_json',
        help='annotation json (YouTube-VIS 2019/2021, OVIS, SynthVIS)')
    parser.add_argument(
        '--deltas',
        type=int,
        nargs='+',
        default=list(DEFAULT_DELTAS),
        help='frame intervals')
    parser.add_argument(
        '--out',
        default=None,
        help='save the histogram figure here (e.g. .png)')
    parser.add_argument(
        '--bins',
        type=float,
        default=DEFAULT_BIN_STEP,
        help='histogram bin step on [0, 1]')
    parser.add_argument(
        '--thr',
        type=float,
        default=DEFAULT_THR,
        help='threshold of the PB/PM proportions')
    args = parser.parse_args(argv)
    if not 0 < args.bins <= 1:
        parser.error(f'--bins must be in (0, 1], got {args.bins}')
    if any(d < 1 for d in args.deltas):
        parser.error(f'--deltas must be positive, got {args.deltas}')
    return args


def plot_histograms(results: Dict[int, Dict[str, np.ndarray]],
                    out: str,
                    bin_step: float = DEFAULT_BIN_STEP,
                    thr: float = DEFAULT_THR) -> None:
    """Save a 2 x len(deltas) grid of histograms (row 1 T-BIoU, row 2
    T-MIoU) to ``out``.

    The y axis is the proportion of (object, frame) values in each bin;
    each subplot shows its delta, the proportion >= ``thr`` and a dashed
    vertical line at ``thr``.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    deltas: Sequence[int] = list(results)
    num_bins = max(1, int(round(1.0 / bin_step)))
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    fig, axes = plt.subplots(
        len(ROWS),
        len(deltas),
        squeeze=False,
        sharex=True,
        figsize=(SUBPLOT_SIZE[0] * len(deltas), SUBPLOT_SIZE[1] * len(ROWS)))
    for row, (key, label, short, color) in enumerate(ROWS):
        for col, delta in enumerate(deltas):
            ax = axes[row][col]
            values = results[delta][key]
            if values.size:
                weights = np.full(values.shape, 1.0 / values.size)
                ax.hist(
                    values,
                    bins=edges,
                    weights=weights,
                    color=color,
                    edgecolor='white')
            ax.axvline(thr, color='k', linestyle='--', linewidth=1)
            prop = proportion_at_least(values, thr)
            ax.set_title(f'{label}, $\\delta$={delta}')
            ax.text(
                0.03,
                0.95,
                f'{short}$_{{\\geq {thr:g}}}$={prop:.3f}',
                transform=ax.transAxes,
                va='top',
                ha='left')
            ax.set_xlim(0.0, 1.0)
            if col == 0:
                ax.set_ylabel('proportion of objects')
            if row == len(ROWS) - 1:
                ax.set_xlabel(label)
    fig.tight_layout()
    out_dir = osp.dirname(osp.abspath(out))
    os.makedirs(out_dir, exist_ok=True)
    fig.savefig(out, dpi=FIG_DPI)
    plt.close(fig)


def main(argv: Optional[List[str]] = None) -> None:
    """Compute and print PB/PM per delta; optionally save the histogram
    figure."""
    args = parse_args(argv)
    try:
        results = temporal_coherence(args.ann_json, deltas=args.deltas)
    except (FileNotFoundError, ValueError) as err:
        print(f'temporal_coherence.py: error: {err}', file=sys.stderr)
        sys.exit(1)
    for delta, vals in results.items():
        pb = proportion_at_least(vals['biou'], args.thr)
        pm = proportion_at_least(vals['miou'], args.thr)
        print(f'delta={delta} PB>={args.thr:g}={pb:.3f} '
              f'PM>={args.thr:g}={pm:.3f}')
    if args.out:
        plot_histograms(results, args.out, bin_step=args.bins, thr=args.thr)
        print(f'figure saved to {args.out}', file=sys.stderr)


if __name__ == '__main__':
    main()
