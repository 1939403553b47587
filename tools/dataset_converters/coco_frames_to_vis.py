"""Convert a per-frame COCO instance json to the official VIS json.

Input: a COCO instance json whose ``images`` are video frames named
``<video>/<frame>.jpg`` (the frame part sorts numerically, e.g. ``00012``)
and whose ``annotations`` carry a track id (``instance_id``, or
``track_id``; ``--track-field`` picks another name). One track = one object
through its video; its category must not change.

Output: the official YouTube-VIS layout read by ``VISDataset``::

    videos:      [{id, name, width, height, length, file_names}]
    annotations: [{id, video_id, category_id, iscrowd, width, height,
                   length, bboxes, areas, segmentations}]   (one per track,
                   null in the frames where the object is absent)
    categories:  copied from the input

Usage::

    python tools/dataset_converters/coco_frames_to_vis.py \\
        frames.json vis.json --img-dir data/mine/train/JPEGImages
"""
import argparse
import json
import os.path as osp
import re
from collections import OrderedDict, defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

TRACK_FIELDS = ('instance_id', 'track_id')
_FRAME_NUMBER = re.compile(r'(\d+)$')


def _frame_number(file_name: str, src: str) -> int:
    """The numeric frame index of ``<video>/<frame>.<ext>``."""
    stem = osp.splitext(osp.basename(file_name))[0]
    match = _FRAME_NUMBER.search(stem)
    if match is None:
        raise ValueError(
            f'{src}: frame "{file_name}" does not sort: its name must end '
            'with the frame number (e.g. <video>/00012.jpg)')
    return int(match.group(1))


def _group_frames(images: Sequence[dict], src: str,
                  img_dir: Optional[str]) -> 'OrderedDict[str, List[dict]]':
    """Frames per video (``dirname(file_name)``), in frame-number order;
    videos sorted by name."""
    videos: 'OrderedDict[str, List[dict]]' = OrderedDict()
    for img in images:
        name = img.get('file_name')
        if not name or not osp.dirname(name):
            raise ValueError(
                f'{src}: image {img.get("id")} file_name {name!r} is not '
                '<video>/<frame>.jpg')
        if img_dir is not None and not osp.isfile(osp.join(img_dir, name)):
            raise FileNotFoundError(
                f'{src}: image {img.get("id")}: missing file '
                f'{osp.join(img_dir, name)}')
        videos.setdefault(osp.dirname(name), []).append(img)
    for video, frames in videos.items():
        keyed = [(_frame_number(f['file_name'], src), f) for f in frames]
        keyed.sort(key=lambda kf: kf[0])
        for (a, fa), (b, fb) in zip(keyed, keyed[1:]):
            if a == b:
                raise ValueError(
                    f'{src}: video "{video}": frames "{fa["file_name"]}" and'
                    f' "{fb["file_name"]}" have the same frame number {a}, '
                    'so they do not sort')
        sizes = {(f.get('height'), f.get('width')) for _, f in keyed}
        if len(sizes) != 1:
            raise ValueError(
                f'{src}: video "{video}" mixes frame sizes {sorted(sizes)}')
        videos[video] = [f for _, f in keyed]
    return OrderedDict(sorted(videos.items()))  # videos by name


def _track_id(ann: dict, src: str, track_field: Optional[str]) -> Any:
    fields = (track_field, ) if track_field else TRACK_FIELDS
    for field in fields:
        if ann.get(field) is not None:
            return ann[field]
    raise ValueError(
        f'{src}: annotation {ann.get("id")} (image {ann.get("image_id")}) '
        f'has no track field ({" / ".join(fields)})')


def _new_track(vid: int, video: dict, ann: dict) -> dict:
    length = video['length']
    return dict(
        id=0,
        video_id=vid,
        category_id=ann['category_id'],
        iscrowd=int(ann.get('iscrowd', 0)),
        width=video['width'],
        height=video['height'],
        length=length,
        bboxes=[None] * length,
        areas=[None] * length,
        segmentations=[None] * length)


def _add_to_track(track: dict, ann: dict, t: int, where: str) -> None:
    if ann['category_id'] != track['category_id']:
        raise ValueError(f'{where}: the track changes category from '
                         f'{track["category_id"]} to {ann["category_id"]}')
    if track['bboxes'][t] is not None:
        raise ValueError(f'{where}: the track has two annotations in frame '
                         f'{t}')
    track['bboxes'][t] = ann.get('bbox')
    track['segmentations'][t] = ann.get('segmentation')
    track['areas'][t] = ann.get('area')
    track['iscrowd'] = max(track['iscrowd'], int(ann.get('iscrowd', 0)))


def _build_videos(
    groups: 'OrderedDict[str, List[dict]]'
) -> Tuple[List[dict], Dict[Any, Tuple[int, int]]]:
    """VIS videos and ``image id -> (video id, frame index)``."""
    videos, where = [], {}
    for vid, (name, frames) in enumerate(groups.items(), start=1):
        videos.append(
            dict(
                id=vid,
                name=name,
                width=frames[0]['width'],
                height=frames[0]['height'],
                length=len(frames),
                file_names=[f['file_name'] for f in frames]))
        for t, frame in enumerate(frames):
            where[frame['id']] = (vid, t)
    return videos, where


def convert(coco: dict,
            src: str = '<json>',
            img_dir: Optional[str] = None,
            track_field: Optional[str] = None) -> dict:
    """Per-frame COCO dict -> official VIS dict (see the module doc)."""
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(coco.get(key), list):
            raise ValueError(f'{src}: no "{key}" list; expected a COCO '
                             'instance json')
    videos, frame_of = _build_videos(
        _group_frames(coco['images'], src, img_dir))
    cat_ids = {c['id'] for c in coco['categories']}
    tracks: Dict[Tuple[int, Any], dict] = OrderedDict()
    for ann in coco['annotations']:
        if ann.get('image_id') not in frame_of:
            raise ValueError(f'{src}: annotation {ann.get("id")} refers to '
                             f'unknown image_id {ann.get("image_id")}')
        vid, t = frame_of[ann['image_id']]
        tid = _track_id(ann, src, track_field)
        where = (f'{src}: video "{videos[vid - 1]["name"]}" track {tid} '
                 f'annotation {ann.get("id")}')
        if ann.get('category_id') not in cat_ids:
            raise ValueError(f'{where}: unknown category_id '
                             f'{ann.get("category_id")}')
        if (vid, tid) not in tracks:
            tracks[(vid, tid)] = _new_track(vid, videos[vid - 1], ann)
        _add_to_track(tracks[(vid, tid)], ann, t, where)
    annotations = list(tracks.values())
    for i, ann in enumerate(annotations, start=1):
        ann['id'] = i
    return dict(
        info=coco.get('info', {}),
        licenses=coco.get('licenses', []),
        videos=videos,
        annotations=annotations,
        categories=coco['categories'])


def convert_file(src: str,
                 dst: str,
                 img_dir: Optional[str] = None,
                 track_field: Optional[str] = None) -> Dict[str, int]:
    """Convert ``src`` to ``dst``; returns the counts."""
    if not osp.isfile(src):
        raise FileNotFoundError(f'COCO json not found: {src}')
    with open(src) as f:
        try:
            coco = json.load(f)
        except ValueError as err:
            raise ValueError(f'{src} is not valid json: {err}') from err
    vis = convert(coco, src, img_dir, track_field)
    with open(dst, 'w') as f:
        json.dump(vis, f)
    per_class = defaultdict(int)
    for ann in vis['annotations']:
        per_class[ann['category_id']] += 1
    return dict(
        videos=len(vis['videos']),
        frames=sum(v['length'] for v in vis['videos']),
        frame_annotations=len(coco['annotations']),
        tracks=len(vis['annotations']),
        categories=len(vis['categories']))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='per-frame COCO instance json')
    parser.add_argument('dst', help='output official VIS json')
    parser.add_argument(
        '--img-dir',
        help='image root; when given, every frame file must exist there')
    parser.add_argument(
        '--track-field',
        help=f'annotation field of the track id (default: one of '
        f'{", ".join(TRACK_FIELDS)})')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    counts = convert_file(args.src, args.dst, args.img_dir, args.track_field)
    print(f'{args.dst}: ' + ', '.join(f'{v} {k}' for k, v in counts.items()))


if __name__ == '__main__':
    main()
