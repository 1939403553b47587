"""Where a VIS result loses AP: its tracks by error type, and the AP with
each error fixed (docs/error_analysis.md).

Example (results.json from ``tools/test.py CONFIG CKPT --format-only
--outfile-prefix DIR/results``)::

    python tools/analysis_tools/analyze_vis_errors.py \
        data/synthvis/annotations/valid.json DIR/results.json \
        [--label CiCo] [OTHER/results.json --label FiFo] [--out errors.json]

Prints one markdown table: per result the number of tracks and their mean
score per error type, the missed ground truths, and the AP / AP50 as is and
with each error fixed.
"""
import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from projects.cico.evaluation import track_errors  # noqa: E402
from projects.cico.evaluation.temporal_coherence import \
    load_annotations  # noqa: E402

ERROR_TYPES = track_errors.ERROR_TYPES
FIXES = ERROR_TYPES[1:] + ('ranking', )


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='error analysis of YouTube-VIS results')
    parser.add_argument('ann_json', help='ground-truth annotation json')
    parser.add_argument(
        'results', nargs='+', help='one or more results.json to compare')
    parser.add_argument(
        '--label',
        nargs='+',
        help='a name per results file (default: its folder name)')
    parser.add_argument(
        '--thr', type=float, default=0.5, help='vIoU of a true positive')
    parser.add_argument(
        '--bkg-thr',
        type=float,
        default=0.1,
        help='below this vIoU with every ground truth: background')
    parser.add_argument('--out', help='write the full analysis as json')
    args = parser.parse_args(argv)
    if args.label and len(args.label) != len(args.results):
        parser.error(f'{len(args.label)} --label for {len(args.results)} '
                     'results files')
    return args


def load_results(path: str) -> List[dict]:
    """A YouTube-VIS results list, checked for the fields the analysis
    reads."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'results file not found: {path}')
    with open(path) as f:
        try:
            preds = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: invalid json ({err})') from err
    if not isinstance(preds, list):
        raise ValueError(f'{path}: expected a list of tracks (YouTube-VIS '
                         'results format)')
    for k, p in enumerate(preds):
        missing = {'video_id', 'category_id', 'score', 'segmentations'
                   } - set(p if isinstance(p, dict) else ())
        if missing:
            raise ValueError(f'{path}: track {k} lacks {sorted(missing)}')
    return preds


def analyze(gt: dict, preds: List[dict], thr: float, bkg_thr: float) -> Dict:
    """Classification summary and oracle APs of one results list."""
    tracks, gts = track_errors.classify_tracks(
        gt, preds, thr=thr, bkg_thr=bkg_thr)
    summary = track_errors.summarize_errors(tracks, gts, len(gt['videos']))
    summary['ap'] = track_errors.oracle_ap(gt, preds, tracks, FIXES)
    return summary


def _fmt(x: Optional[float]) -> str:
    return '-' if x is None else f'{x:.2f}'


def _table(title: str, columns: List[str], rows: List[List[str]]) -> List[str]:
    """A titled markdown table."""
    return [
        title, '', '| ' + ' | '.join(columns) + ' |',
        '|' + '---|' * len(columns),
        *('| ' + ' | '.join(r) + ' |' for r in rows), ''
    ]


def to_markdown(labels: List[str], summaries: List[Dict]) -> str:
    """Three tables: tracks per error type (count / mean score), score
    separation per false-positive type, AP with each error fixed."""
    fp_types = list(ERROR_TYPES[1:])
    lines = _table('**Tracks by error type** (count, mean score)',
                   ['result', 'tracks/video', 'missed GT', *ERROR_TYPES], [[
                       name, f'{s["tracks_per_video"]:.1f}',
                       f'{s["missed"]}/{s["num_gts"]}',
                       *(f'{s["count"][t]} ({_fmt(s["mean_score"][t])})'
                         for t in ERROR_TYPES)
                   ] for name, s in zip(labels, summaries)])
    lines += _table(
        '**Score separation**: P(a true positive outscores a track of the '
        'type); 1 perfect, 0.5 chance', ['result', *fp_types],
        [[name, *(_fmt(s['separation'][t]) for t in fp_types)]
         for name, s in zip(labels, summaries)])
    lines += _table(
        '**AP / AP50 with one error fixed** (removed; ranking: true '
        'positives scored above all false positives)',
        ['result', 'as is', *FIXES], [[
            name, *(f'{a:.1f} / {b:.1f}'
                    for a, b in (s['ap'][k] for k in ('none', ) + FIXES))
        ] for name, s in zip(labels, summaries)])
    return '\n'.join(lines).rstrip()


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    gt, _ = load_annotations(args.ann_json)
    labels = args.label or [
        osp.basename(osp.dirname(osp.abspath(p))) for p in args.results
    ]
    summaries = [
        analyze(gt, load_results(p), args.thr, args.bkg_thr)
        for p in args.results
    ]
    print(to_markdown(labels, summaries))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(zip(labels, summaries)), f, indent=1)
        print(f'written: {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
