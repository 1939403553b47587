"""Split a VIS training json into ``train_sub.json`` / ``valid_sub.json``.

The YouTube-VIS / OVIS valid splits have no public ground truth, so local
validation holds out whole training videos. The CiCo authors developed on
the last 1/10 of the training videos (``--last``); the default is a seeded
random choice of the same size. Categories, the other top-level fields and
every id (video, annotation, image) are kept, so the two files load with
the same dataset classes and category ids as the original.

Both the official format (``videos`` with ``file_names``, one annotation per
object and video) and mmdet's CocoVID format (``images`` with ``video_id``,
one annotation per object and frame) are accepted.

Example::

    python tools/dataset_converters/split_vis.py \\
        data/youtube_vis_2019/train.json --val-ratio 0.1 --last
    # -> data/youtube_vis_2019/{train_sub,valid_sub}.json
"""
import argparse
import json
import math
import os
import os.path as osp
import random
import sys
from collections import Counter
from typing import Dict, List, Optional, Sequence, Tuple

TRAIN_NAME = 'train_sub.json'
VAL_NAME = 'valid_sub.json'


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Split a VIS training json by whole videos into '
        f'{TRAIN_NAME} and {VAL_NAME}')
    parser.add_argument('ann_json', help='training annotation json')
    parser.add_argument(
        '--val-ratio',
        type=float,
        default=0.1,
        help='fraction of the videos held out (rounded, at least one)')
    order = parser.add_mutually_exclusive_group()
    order.add_argument(
        '--seed',
        type=int,
        default=0,
        help='seed of the random choice of held-out videos (default 0)')
    order.add_argument(
        '--last',
        action='store_true',
        help='hold out the last videos of the json (the authors\' split)')
    parser.add_argument(
        '--out-dir',
        default=None,
        help='folder of the two files (default: the folder of ANN_JSON)')
    return parser.parse_args(argv)


def load_json(path: str) -> dict:
    """Read a VIS annotation json; errors name the file."""
    if not osp.isfile(path):
        raise ValueError(f'{path}: no such file')
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f'{path}: not a valid json file ({err})') from err
    if not isinstance(data, dict) or not isinstance(data.get('videos'), list):
        raise ValueError(f'{path}: not a VIS annotation file (expected an '
                         'object with a "videos" list)')
    return data


def num_val_videos(num_videos: int, val_ratio: float) -> int:
    """``round(num_videos * val_ratio)`` (halves up), at least 1 and at most
    ``num_videos - 1``."""
    if not 0 < val_ratio < 1:
        raise ValueError(f'--val-ratio must be in (0, 1), got {val_ratio}')
    if num_videos < 2:
        raise ValueError(f'{num_videos} video(s): nothing to split')
    n = math.floor(num_videos * val_ratio + 0.5)
    return min(max(n, 1), num_videos - 1)


def choose_val_videos(video_ids: Sequence[int],
                      val_ratio: float,
                      seed: int = 0,
                      last: bool = False) -> List[int]:
    """Ids of the held-out videos, in json order.

    Args:
        video_ids (Sequence[int]): video ids in json order.
        val_ratio (float): fraction held out.
        seed (int): seed of the random choice (ignored with ``last``).
        last (bool): hold out the last videos.

    Returns:
        list[int]: held-out ids, in the order of ``video_ids``.
    """
    n = num_val_videos(len(video_ids), val_ratio)
    if last:
        return list(video_ids[-n:])
    chosen = set(random.Random(seed).sample(list(video_ids), n))
    return [v for v in video_ids if v in chosen]


def _video_of_annotation(data: dict, path: str) -> Tuple[Dict, Dict]:
    """``annotation index -> video id`` and, for CocoVID, ``image index ->
    video id``."""
    videos = {v.get('id') for v in data['videos']}
    image_video = {}
    for i, img in enumerate(data.get('images') or []):
        if img.get('video_id') not in videos:
            raise ValueError(f'{path}: image {img.get("id")} refers to '
                             f'video_id {img.get("video_id")}, which is not '
                             'in "videos"')
        image_video[i] = img['video_id']
    video_of_image = {
        img.get('id'): img['video_id']
        for img in data.get('images') or []
    }
    ann_video = {}
    for i, ann in enumerate(data.get('annotations') or []):
        if 'video_id' in ann:
            vid = ann['video_id']
        elif ann.get('image_id') in video_of_image:
            vid = video_of_image[ann['image_id']]
        else:
            raise ValueError(f'{path}: annotation {ann.get("id")} has no '
                             'video_id and no image_id of a known image')
        if vid not in videos:
            raise ValueError(f'{path}: annotation {ann.get("id")} refers to '
                             f'video_id {vid}, which is not in "videos"')
        ann_video[i] = vid
    return ann_video, image_video


def check_video_ids(data: dict, path: str) -> List[int]:
    """The video ids in json order; every video has one, and no two the
    same."""
    ids = []
    for k, video in enumerate(data['videos']):
        if not isinstance(video, dict) or 'id' not in video:
            raise ValueError(f'{path}: video {k} of "videos" has no "id"')
        ids.append(video['id'])
    dup = sorted((i for i, n in Counter(ids).items() if n > 1), key=str)
    if dup:
        raise ValueError(f'{path}: duplicate video ids {dup[:5]}')
    return ids


def split_vis(data: dict,
              val_ids: Sequence[int],
              path: str = 'ANN_JSON') -> Tuple[dict, dict]:
    """Split a VIS json by videos.

    Args:
        data (dict): the loaded json.
        val_ids (Sequence[int]): held-out video ids.
        path (str): the file, for error messages.

    Returns:
        tuple[dict, dict]: ``(train_sub, valid_sub)``; every other top-level
        field (``categories``, ``info``, ``licenses``...) is copied to both.
    """
    check_video_ids(data, path)
    ann_video, image_video = _video_of_annotation(data, path)
    held = set(val_ids)
    parts = []
    for in_val in (False, True):
        out = {
            k: v
            for k, v in data.items()
            if k not in ('videos', 'annotations', 'images')
        }
        out['videos'] = [
            v for v in data['videos'] if (v['id'] in held) == in_val
        ]
        if 'images' in data:
            out['images'] = [
                img for i, img in enumerate(data['images'] or [])
                if (image_video[i] in held) == in_val
            ]
        if 'annotations' in data:
            out['annotations'] = [
                a for i, a in enumerate(data['annotations'] or [])
                if (ann_video[i] in held) == in_val
            ]
        parts.append(out)
    return parts[0], parts[1]


def describe(part: dict) -> str:
    """``N videos, M frames, K instances`` (CocoVID: and its per-frame
    annotations)."""
    anns = part.get('annotations') or []
    if 'images' in part:  # CocoVID: one annotation per object and frame
        instances = len({a.get('instance_id', a.get('id')) for a in anns})
        return (f'{len(part["videos"])} videos, {len(part["images"])} '
                f'frames, {instances} instances ({len(anns)} frame '
                'annotations)')
    frames = sum(len(v.get('file_names') or []) for v in part['videos'])
    return (f'{len(part["videos"])} videos, {frames} frames, '
            f'{len(anns)} instances')


def main(argv: Optional[Sequence[str]] = None) -> Tuple[str, str]:
    """Write the two files and print their counts; returns their paths."""
    args = parse_args(argv)
    out_dir = args.out_dir or osp.dirname(osp.abspath(args.ann_json))
    out_train = osp.join(out_dir, TRAIN_NAME)
    out_val = osp.join(out_dir, VAL_NAME)
    try:
        src = osp.realpath(args.ann_json)
        if src in (osp.realpath(out_train), osp.realpath(out_val)):
            raise ValueError(f'{args.ann_json}: the input would be '
                             'overwritten; choose another --out-dir')
        data = load_json(args.ann_json)
        ids = check_video_ids(data, args.ann_json)
        val_ids = choose_val_videos(ids, args.val_ratio, args.seed, args.last)
        train, val = split_vis(data, val_ids, args.ann_json)
    except ValueError as err:
        print(f'split_vis.py: error: {err}', file=sys.stderr)
        sys.exit(2)
    os.makedirs(out_dir, exist_ok=True)
    for part, path in ((train, out_train), (val, out_val)):
        with open(path, 'w', encoding='utf-8') as f:
            json.dump(part, f)
    how = 'last' if args.last else f'random, seed {args.seed}'
    print(f'{args.ann_json}: {describe(data)}; held out '
          f'{len(val["videos"])} videos ({how}, --val-ratio '
          f'{args.val_ratio})')
    print(f'{out_train}: {describe(train)}')
    print(f'{out_val}: {describe(val)}')
    return out_train, out_val


if __name__ == '__main__':
    main()
