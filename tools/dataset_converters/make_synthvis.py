"""Generate the SynthVIS synthetic video instance segmentation dataset
(YouTube-VIS 2019 format; the generator is ``synthvis_generator.py``).

Example::

    python tools/dataset_converters/make_synthvis.py --out data/synthvis \
        --train-videos 100 --val-videos 20 --frames 10 30 --size 192 320 \
        --seed 0 [--objects 1 6] [--radius 0.08 0.22] [--num-workers N]
"""
from __future__ import annotations
import argparse
import os.path as osp
import sys
import time
from typing import List, Optional

REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, REPO_ROOT)

from tools.dataset_converters import synthvis_generator  # noqa: E402

DEFAULT_OUT = 'data/synthvis'
DEFAULT_TRAIN_VIDEOS = 100
DEFAULT_VAL_VIDEOS = 20
DEFAULT_FRAMES = (10, 30)
DEFAULT_SIZE = (192, 320)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Generate SynthVIS (synthetic shapes, official '
        'YouTube-VIS 2019 json + JPEGs)')
    parser.add_argument(
        '--out', default=DEFAULT_OUT, help='output root folder')
    parser.add_argument(
        '--train-videos',
        type=int,
        default=DEFAULT_TRAIN_VIDEOS,
        help='number of training videos')
    parser.add_argument(
        '--val-videos',
        type=int,
        default=DEFAULT_VAL_VIDEOS,
        help='number of validation videos (annotations kept)')
    parser.add_argument(
        '--frames',
        type=int,
        nargs=2,
        default=list(DEFAULT_FRAMES),
        metavar=('MIN', 'MAX'),
        help='inclusive range of frames per video')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=list(DEFAULT_SIZE),
        metavar=('HEIGHT', 'WIDTH'),
        help='frame size')
    parser.add_argument(
        '--objects',
        type=int,
        nargs=2,
        default=list(synthvis_generator.SceneSettings().objects),
        metavar=('MIN', 'MAX'),
        help='inclusive range of objects per video')
    parser.add_argument(
        '--radius',
        type=float,
        nargs=2,
        default=list(synthvis_generator.SceneSettings().radius),
        metavar=('MIN', 'MAX'),
        help='object circumradius range, fraction of the short side')
    parser.add_argument(
        '--seed', type=int, default=0, help='global seed (>= 0)')
    parser.add_argument(
        '--num-workers',
        type=int,
        default=0,
        help='processes for rendering (0 = in this process); output is '
        'identical')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Validate the arguments, generate the dataset, print what was written."""
    args = parse_args(argv)
    start = time.perf_counter()
    try:
        scene = synthvis_generator.SceneSettings(
            objects=tuple(args.objects), radius=tuple(args.radius))
        summary = synthvis_generator.generate_synthvis(
            args.out,
            train_videos=args.train_videos,
            val_videos=args.val_videos,
            frames=tuple(args.frames),
            size=tuple(args.size),
            seed=args.seed,
            num_workers=args.num_workers,
            scene=scene)
    except (ValueError, TypeError) as err:
        print(f'make_synthvis.py: error: {err}', file=sys.stderr)
        sys.exit(2)
    elapsed = time.perf_counter() - start
    classes = ', '.join(summary['classes'])
    print(f'SynthVIS written to {summary["out_dir"]} (classes: {classes})')
    for split in ('train', 'valid'):
        info = summary[split]
        print(f'  {split}: {info["videos"]} videos, {info["frames"]} frames, '
              f'{info["instances"]} instances')
        print(f'    annotations: {info["ann_file"]}')
        print(f'    frames:      {info["img_dir"]}')
    print(f'done in {elapsed:.1f} s')


if __name__ == '__main__':
    main()
