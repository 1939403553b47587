"""Video instance segmentation datasets: YouTube-VIS 2019/2021, OVIS, SynthVIS.

The official json (``videos`` with ``file_names``; ``annotations`` with
per-frame ``bboxes``/``segmentations``/``areas``) loads directly; mmdet's
converted CocoVID json (``images`` with ``frame_id``/``video_id``, one
annotation per frame) loads too.
Both give the same per-video structure as mmdet's ``BaseVideoDataset``::

    {'video_id', 'video_length', 'images': [frame_info, ...]}
    frame_info = {img_id, file_name, img_path, height, width, frame_id,
                  video_id, instances: [{bbox (x1, y1, x2, y2), bbox_label,
                  mask (RLE or polygons), instance_id, ignore_flag}]}

Training: one item is one video; ``ClipFrameSample`` (first transform of the
pipeline) picks ``clip_len`` frames around a key frame. Testing: one item is
one clip ``(video_index, clip_index)``; the clip's frames are collated here, so
the pipeline starts with the per-frame transforms. See
:mod:`projects.cico.utils.clip_layout`.
"""
import copy
import json
import math
import os.path as osp
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import mmengine.fileio as fileio
from mmdet.datasets import BaseVideoDataset, YouTubeVISDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from pycocotools import mask as mask_utils

from ..utils.clip_layout import (check_clip_schedule, clip_frame_metainfo,
                                 num_clips, resolve_clip_overlap, video_clip)
from ..utils.masks import segmentation_to_rle
from .synthvis_meta import SYNTHVIS_CLASSES

OVIS_CLASSES = ('person', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
                'elephant', 'bear', 'zebra', 'giraffe', 'poultry',
                'giant_panda', 'lizard', 'parrot', 'monkey', 'rabbit', 'tiger',
                'fish', 'turtle', 'bicycle', 'motorcycle', 'airplane', 'boat',
                'vehicle')


def _mmdet_ytvis_classes(version: str) -> Tuple[str, ...]:
    """The official YouTube-VIS class list, read from mmdet without mutating
    ``YouTubeVISDataset.METAINFO`` (mmdet's classmethod writes it on
    ``cls``)."""
    probe = type('_YTVISClasses', (YouTubeVISDataset, ), {})
    probe.set_dataset_classes(version)
    return tuple(probe.METAINFO['classes'])


def _norm_name(name: str) -> str:
    return name.strip().lower().replace(' ', '_')


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def validate_frame_size(height: Any, width: Any, where: str) -> None:
    """A frame's ``height``/``width`` must be positive finite numbers."""
    for name, value in (('height', height), ('width', width)):
        if not _is_number(value) or value <= 0:
            raise ValueError(
                f'{where}: "{name}" must be a positive finite number, got '
                f'{value!r}')


def _validate_polygons(seg: Any, where: str) -> None:
    for poly in seg:
        if not isinstance(poly, (list, tuple)) or len(poly) < 6 \
                or len(poly) % 2 or not all(_is_number(v) for v in poly):
            raise ValueError(
                f'{where}: "segmentation" polygon must be >= 3 finite (x, y)'
                f' pairs, got {str(poly)[:80]}')


def _validate_segmentation(seg: Any, frame: dict, where: str) -> None:
    if isinstance(seg, (list, tuple)):
        _validate_polygons(seg, where)
        return
    if not isinstance(seg, dict) or 'counts' not in seg:
        raise ValueError(f'{where}: "segmentation" is neither polygons nor '
                         f'an RLE dict: {str(seg)[:80]}')
    size = seg.get('size')
    if size is not None and [int(v) for v in size] != [
            int(frame['height']), int(frame['width'])
    ]:
        raise ValueError(
            f'{where}: "segmentation" RLE size {list(size)} != frame size '
            f'[{frame["height"]}, {frame["width"]}]')


def validate_annotation(bbox: Any, area: Any, seg: Any, frame: dict,
                        where: str) -> None:
    """Check the numbers of one object in one frame; errors name ``where``
    (file, video, annotation, frame) and the field.

    ``bbox`` = 4 finite numbers ``(x, y, w, h)`` with ``w, h >= 0`` and the
    box within one frame size of the frame (a larger offset is a unit or
    format mistake); ``area`` finite and ``>= 0``; polygon coordinates
    finite; an RLE's ``size`` equal to the frame size.
    """
    if bbox is not None:
        if not isinstance(bbox, (list, tuple)) or len(bbox) != 4 \
                or not all(_is_number(v) for v in bbox):
            raise ValueError(f'{where}: "bbox" must be 4 finite numbers '
                             f'(x, y, w, h), got {bbox!r}')
        x, y, w, h = bbox
        if w < 0 or h < 0:
            raise ValueError(
                f'{where}: "bbox" {list(bbox)} has a negative size')
        height, width = frame['height'], frame['width']
        if x < -width or y < -height or x + w > 2 * width \
                or y + h > 2 * height:
            raise ValueError(
                f'{where}: "bbox" {list(bbox)} (x, y, w, h) lies far outside'
                f' the {width}x{height} frame')
    if area is not None and (not _is_number(area) or area < 0):
        raise ValueError(
            f'{where}: "area" must be a finite number >= 0, got {area!r}')
    if seg is not None:
        _validate_segmentation(seg, frame, where)


def load_vis_json(ann_file: str, backend_args: Optional[dict] = None) -> dict:
    """Read a VIS annotation json with errors that name the file."""
    if not fileio.exists(ann_file, backend_args=backend_args):
        raise FileNotFoundError(
            f'VIS annotation file not found: {ann_file} (check data_root and '
            'ann_file in the dataset config)')
    try:
        raw = json.loads(fileio.get_text(ann_file, backend_args=backend_args))
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(
            f'VIS annotation file {ann_file} is not valid json: {err}'
        ) from err
    if not isinstance(raw, dict) or 'videos' not in raw:
        raise ValueError(
            f'VIS annotation file {ann_file} has no "videos" list; expected '
            'the official YouTube-VIS/OVIS json or mmdet CocoVID json')
    return raw


@DATASETS.register_module()
class VISDataset(BaseVideoDataset):
    """Video instance segmentation dataset (official or CocoVID json).

    Args:
        clip_len (int): T, frames per clip (train sampling and test clips).
        clip_overlap (int, optional): T_o, frames shared by consecutive
            test clips, ``0 <= T_o < T``. Default: 1 (the paper's), or 0
            when ``clip_len`` is 1 (frame by frame).
        clip_schedule (str): how the test clips end a video
            (:mod:`~projects.cico.utils.clip_layout`): ``'project'``
            (default; the last clip is the first that reaches the end,
            padded by repeating its last frame) or ``'authors'`` (their
            ``ceil(L / (T - T_o))`` clips, each emitting its first T - T_o
            frames, short clips padded by cycling their own frames; the
            main configs set it, ``docs/departures.md#post-processing``).
        frame_stride (int): temporal stride between the frames of a training
            clip (in annotated frames).
        box_corners (str): how a json box ``[x, y, w, h]`` becomes corners:
            ``'exclusive'`` ``[x, y, x + w, y + h]`` (mmdet, COCO);
            ``'inclusive'`` ``[x, y, x + w - 1, y + h - 1]``, the authors'
            (``docs/training_recipe.md#data``).
        redraw_empty_clips (int): training: a clip in which no frame keeps
            an object after the pipeline is drawn again (new frames and
            augmentation, same key frame), at most this many times, then an
            error names the video and key frame; 0 keeps such clips (their
            anchors are all negatives). The authors redraw.
        *args, **kwargs: ``mmengine.dataset.BaseDataset`` arguments
            (``ann_file``, ``data_root``, ``data_prefix=dict(img_path=...)``,
            ``pipeline``, ``test_mode``, ``filter_cfg``, ...).
            ``filter_cfg=dict(filter_empty_gt=True, min_size=32)`` drops, in
            training only, videos without any valid instance or with a
            shorter side below ``min_size``. Frames are never dropped, so a
            clip is always temporally contiguous.
    """
    METAINFO = dict(classes=None)

    def __init__(self,
                 *args,
                 clip_len: int = 3,
                 clip_overlap: Optional[int] = None,
                 clip_schedule: str = 'project',
                 frame_stride: int = 1,
                 box_corners: str = 'exclusive',
                 redraw_empty_clips: int = 0,
                 **kwargs) -> None:
        if box_corners not in ('exclusive', 'inclusive'):
            raise ValueError("box_corners must be 'exclusive' or "
                             f"'inclusive', got {box_corners!r}")
        self.box_corners = box_corners
        self.redraw_empty_clips = redraw_empty_clips
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        clip_overlap = resolve_clip_overlap(clip_len, clip_overlap)
        if frame_stride < 1:
            raise ValueError(f'frame_stride must be >= 1, got {frame_stride}')
        self.clip_len = clip_len
        self.clip_overlap = clip_overlap
        self.clip_schedule = check_clip_schedule(clip_schedule)
        self.frame_stride = frame_stride
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        raw = load_vis_json(self.ann_file, self.backend_args)
        self._set_categories(raw.get('categories') or [])
        videos = raw['videos']
        if len(videos) > 0 and 'file_names' in videos[0]:
            data_list = self._load_official(raw)
        elif 'images' in raw:
            data_list = self._load_cocovid(raw)
        else:
            raise ValueError(
                f'{self.ann_file}: videos have no "file_names" and there is no'
                ' "images" list; neither official VIS nor CocoVID format')
        return data_list

    def _set_categories(self, categories: List[dict]) -> None:
        """Map json category ids to labels (positions in ``classes``)."""
        classes = self._metainfo.get('classes')
        cats = sorted(categories, key=lambda c: c['id'])
        if classes is None:
            if not cats:
                raise ValueError(f'{self.ann_file} has no "categories" and the'
                                 ' dataset defines no classes')
            classes = tuple(c['name'] for c in cats)
            self._metainfo['classes'] = classes
        if not cats:  # e.g. a test json without categories: ids 1..C
            cats = [dict(id=i + 1, name=n) for i, n in enumerate(classes)]
        by_name = {_norm_name(c['name']): c['id'] for c in cats}
        names = [_norm_name(c) for c in classes]
        if all(n in by_name for n in names):
            cat_ids = [by_name[n] for n in names]
        elif len(cats) == len(classes):
            cat_ids = [c['id'] for c in cats]
            print_log(
                f'{self.ann_file}: category names differ from the dataset '
                'classes; mapping by sorted category id', 'current')
        else:
            raise ValueError(
                f'{self.ann_file} has {len(cats)} categories '
                f'({[c["name"] for c in cats][:10]}...) that do not match the '
                f'{len(classes)} classes of {type(self).__name__}')
        self.cat_ids = cat_ids
        self.cat2label = {cat_id: i for i, cat_id in enumerate(cat_ids)}
        self._metainfo['cat_ids'] = tuple(cat_ids)

    def _label_of(self, cat_id: Any, where: str) -> int:
        if cat_id not in self.cat2label:
            raise ValueError(
                f'{self.ann_file}: {where} has unknown category_id {cat_id} '
                f'(known: {sorted(self.cat2label)})')
        return self.cat2label[cat_id]

    def _img_path(self, file_name: str) -> str:
        prefix = self.data_prefix.get('img_path', None)
        return osp.join(prefix, file_name) if prefix else file_name

    def _load_official(self, raw: dict) -> List[dict]:
        videos, anns_by_video = {}, defaultdict(list)
        img_id = 0
        for video in raw['videos']:
            vid = video['id']
            if 'file_names' not in video:
                raise ValueError(
                    f'{self.ann_file}: video {vid} has no "file_names"')
            validate_frame_size(
                video.get('height'), video.get('width'),
                f'{self.ann_file}: video {vid}')
            images = []
            for frame_id, file_name in enumerate(video['file_names']):
                img_id += 1
                images.append(
                    dict(
                        img_id=img_id,
                        file_name=file_name,
                        img_path=self._img_path(file_name),
                        height=video['height'],
                        width=video['width'],
                        frame_id=frame_id,
                        video_id=vid,
                        instances=[]))
            videos[vid] = dict(
                video_id=vid,
                video_name=osp.dirname(video['file_names'][0])
                if video['file_names'] else str(vid),
                video_length=len(images),
                images=images)
        for ann in raw.get('annotations') or []:
            anns_by_video[ann.get('video_id')].append(ann)
        for vid, anns in anns_by_video.items():
            if vid not in videos:
                raise ValueError(
                    f'{self.ann_file}: annotation {anns[0].get("id")} refers '
                    f'to video_id {vid}, which is not in "videos"')
            for ann in anns:
                self._add_official_ann(videos[vid], ann)
        return list(videos.values())

    def _add_official_ann(self, video: dict, ann: dict) -> None:
        """Add one official-json track to the frames of its video."""
        length = video['video_length']
        where = f'video {video["video_id"]} annotation {ann.get("id")}'
        label = self._label_of(ann.get('category_id'), where)
        for field in ('segmentations', 'bboxes', 'areas'):
            if field in ann and ann[field] is not None \
                    and len(ann[field]) != length:
                raise ValueError(
                    f'{self.ann_file}: {where}: "{field}" has '
                    f'{len(ann[field])} entries but the video has '
                    f'{length} frames')
        segs = ann.get('segmentations') or [None] * length
        boxes = ann.get('bboxes') or [None] * length
        areas = ann.get('areas') or [None] * length
        for t in range(length):
            frame = video['images'][t]
            validate_annotation(boxes[t], areas[t], segs[t], frame,
                                f'{self.ann_file}: {where} frame {t}')
            inst = self._parse_instance(boxes[t], segs[t], frame, label,
                                        ann['id'], ann.get('iscrowd', 0))
            if inst is not None:
                frame['instances'].append(inst)

    def _load_cocovid(self, raw: dict) -> List[dict]:
        videos = {}
        for video in raw['videos']:
            videos[video['id']] = dict(
                video_id=video['id'],
                video_name=video.get('name', str(video['id'])),
                images=[])
        img_index = {}
        for img in raw['images']:
            vid = img.get('video_id')
            if vid not in videos:
                raise ValueError(f'{self.ann_file}: image {img.get("id")} '
                                 f'refers to unknown video_id {vid}')
            validate_frame_size(
                img.get('height'), img.get('width'),
                f'{self.ann_file}: video {vid} image {img.get("id")}')
            frame = dict(
                img_id=img['id'],
                file_name=img['file_name'],
                img_path=self._img_path(img['file_name']),
                height=img['height'],
                width=img['width'],
                frame_id=img.get('frame_id', len(videos[vid]['images'])),
                video_id=vid,
                instances=[])
            videos[vid]['images'].append(frame)
            img_index[img['id']] = frame
        for video in videos.values():
            video['images'].sort(key=lambda f: f['frame_id'])
            video['video_length'] = len(video['images'])
            for t, frame in enumerate(video['images']):
                if frame['frame_id'] != t:
                    raise ValueError(
                        f'{self.ann_file}: video {video["video_id"]} frame_ids'
                        ' are not contiguous from 0 '
                        f'(found {frame["frame_id"]} at position {t})')
        for ann in raw.get('annotations') or []:
            frame = img_index.get(ann.get('image_id'))
            if frame is None:
                raise ValueError(
                    f'{self.ann_file}: annotation {ann.get("id")} '
                    f'refers to unknown image_id '
                    f'{ann.get("image_id")}')
            where = f'video {frame["video_id"]} annotation {ann.get("id")}'
            label = self._label_of(ann.get('category_id'), where)
            validate_annotation(
                ann.get('bbox'), ann.get('area'), ann.get('segmentation'),
                frame, f'{self.ann_file}: {where} frame '
                f'{frame["frame_id"]}')
            inst = self._parse_instance(
                ann.get('bbox'), ann.get('segmentation'), frame, label,
                ann.get('instance_id', ann['id']), ann.get('iscrowd', 0))
            if inst is not None:
                frame['instances'].append(inst)
        return [v for v in videos.values()]

    def _parse_instance(self, bbox: Optional[Sequence[float]], seg: Any,
                        frame: dict, label: int, instance_id: int,
                        iscrowd: int) -> Optional[dict]:
        """One object in one frame, or None when it is absent there."""
        if bbox is None and seg is None:
            return None
        if bbox is None:  # a mask without a box: take the mask's box
            rle = segmentation_to_rle(seg, frame['height'], frame['width'])
            bbox = mask_utils.toBbox(rle).tolist()
        x, y, w, h = bbox
        if w < 1 or h < 1:
            return None
        end = 1 if self.box_corners == 'inclusive' else 0
        inst = dict(
            bbox=[x, y, x + w - end, y + h - end],
            bbox_label=label,
            instance_id=instance_id,
            ignore_flag=int(bool(iscrowd)))
        if seg is not None:
            inst['mask'] = seg
        else:  # box-only annotation: the box is the mask
            inst['mask'] = [[x, y, x + w, y, x + w, y + h, x, y + h]]
        return inst

    def filter_data(self) -> List[dict]:
        """Training: drop videos with no valid instance (``filter_empty_gt``)
        or a shorter side below ``min_size``. Frames are kept, so clips stay
        contiguous (mmdet's filter removes frames). Test: keep everything."""
        if self.test_mode:
            return self.data_list
        cfg = self.filter_cfg or {}
        filter_empty = cfg.get('filter_empty_gt', True)
        min_size = cfg.get('min_size', 0)
        kept = []
        for video in self.data_list:
            if not video['images']:
                continue
            first = video['images'][0]
            if min(first['width'], first['height']) < min_size:
                continue
            if filter_empty and not any(inst['ignore_flag'] == 0
                                        for img in video['images']
                                        for inst in img['instances']):
                continue
            kept.append(video)
        if len(kept) < len(self.data_list):
            print_log(
                f'{self.ann_file}: kept {len(kept)} of {len(self.data_list)} '
                'training videos (others have no valid instance)', 'current')
        if not kept:
            raise ValueError(f'{self.ann_file}: no training video with a valid'
                             ' instance')
        return kept

    # ------------------------------------------------------------ sampling
    def num_clips(self, video_idx: int) -> int:
        """Number of test clips of a video."""
        return num_clips(
            self.get_len_per_video(video_idx), self.clip_len,
            self.clip_overlap, self.clip_schedule)

    def prepare_data(self, idx: Union[int, Tuple[int, int]]) -> Any:
        """Train: ``idx`` = video or ``(video, key_frame)``; test: ``idx`` =
        ``(video, clip)``, as yielded by ``VideoClipSampler``."""
        if not self.test_mode:
            video_idx, key = idx if isinstance(idx, tuple) else (idx, None)
            info = self.get_data_info(video_idx)
            if key is not None:
                info['key_frame_id'] = key
            info['clip_len'] = self.clip_len
            info['frame_stride'] = self.frame_stride
            return self._train_clip(info, video_idx, key)
        if not isinstance(idx, tuple) or len(idx) != 2:
            raise TypeError(
                f'{type(self).__name__} in test mode is indexed by '
                f'(video_index, clip_index), got {idx!r}: use '
                "sampler=dict(type='VideoClipSampler') in the test dataloader")
        video_idx, clip_idx = idx
        return self.pipeline(self.get_clip_info(video_idx, clip_idx))

    def _train_clip(self, info: dict, video_idx: int,
                    key: Optional[int]) -> Any:
        """The pipeline on a training clip, redrawn while no frame keeps an
        object (``redraw_empty_clips``)."""
        if not self.redraw_empty_clips:
            return self.pipeline(info)
        for _ in range(self.redraw_empty_clips + 1):
            out = self.pipeline(copy.deepcopy(info))
            if _has_objects(out):
                return out
        raise RuntimeError(
            f'{self.ann_file}: video {info.get("video_id", video_idx)}, key '
            f'frame {key}: no object left in {self.redraw_empty_clips + 1} '
            'draws of its clip (check its annotations and the augmentation)')

    def get_clip_info(self, video_idx: int, clip_idx: int) -> Dict[str, list]:
        """The collated (dict of per-frame lists) infos of one test clip."""
        info = self.get_data_info(video_idx)
        length = len(info['images'])
        clip = video_clip(length, clip_idx, self.clip_len, self.clip_overlap,
                          self.clip_schedule)
        collated = defaultdict(list)
        for k, frame_idx in enumerate(clip.frame_inds):
            frame = dict(info['images'][frame_idx])
            frame['video_id'] = info['video_id']
            frame.update(clip_frame_metainfo(clip, k, length))
            for key, value in frame.items():
                collated[key].append(value)
        return collated


def _has_objects(packed: Any) -> bool:
    """Whether a packed clip (``PackClipInputs``) keeps an object in some
    frame."""
    sample = packed['data_samples'] if isinstance(packed, dict) else None
    frames = getattr(sample, 'video_data_samples', None)
    if frames is None:
        raise TypeError('redraw_empty_clips needs PackClipInputs at the end '
                        'of the training pipeline')
    return any(len(f.gt_instances) > 0 for f in frames)


@DATASETS.register_module()
class YTVIS2019Dataset(VISDataset):
    """YouTube-VIS 2019 (40 classes, official id order)."""
    METAINFO = dict(classes=_mmdet_ytvis_classes('2019'))


@DATASETS.register_module()
class YTVIS2021Dataset(VISDataset):
    """YouTube-VIS 2021 (40 classes, official id order = alphabetical)."""
    METAINFO = dict(classes=_mmdet_ytvis_classes('2021'))


@DATASETS.register_module()
class OVISDataset(VISDataset):
    """OVIS (25 classes, official id order)."""
    METAINFO = dict(classes=OVIS_CLASSES)


@DATASETS.register_module()
class SynthVISDataset(VISDataset):
    """SynthVIS, the synthetic dataset of ``tools/dataset_converters/
    make_synthvis.py`` (shape classes)."""
    METAINFO = dict(classes=SYNTHVIS_CLASSES)
