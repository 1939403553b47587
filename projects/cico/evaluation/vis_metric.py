"""YouTube-VIS metric for clip-by-clip streaming test.

mmdet's ``YouTubeVISMetric`` needs a whole video per test step. CiCo's test
emits a clip per step, so :class:`CiCoVISMetric` buffers the frames of each
video (only the frames a clip marks ``is_output_frame``) and, when a video is
complete, forms its video-level predictions with mmdet's own formatter
(category by majority vote, score by mean, one RLE-or-None per frame).

It also fixes five mmdet 3.3 bugs (docs/mmdet_traps.md#vis-metric):
``np.float`` in ytviseval on numpy >= 1.24 (a scoped alias during
``accumulate``), the ``KeyError: 'images'`` of a second evaluation in one
process (validation during training), the crash on a split with zero
predictions (AP 0 instead), ground-truth areas taken from the boxes instead of
the masks (wrong APs/m/l and ARs/m/l), and video scores averaged in float32.
"""
import contextlib
import os
import os.path as osp
import warnings
from collections import defaultdict
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.evaluation import YouTubeVISMetric
from mmdet.registry import METRICS
from mmengine.logging import MMLogger
from pycocotools import mask as mask_utils

from ..utils.masks import segmentation_to_rle
from .vis_format import check_labels_per_track, format_video_tracks

AP_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l', 'AR@1',
            'AR@10', 'AR_s@100', 'AR_m@100', 'AR_l@100')


@contextlib.contextmanager
def numpy_float_alias():
    """``np.float`` for mmdet's ytviseval, only while it runs (numpy >= 1.24
    removed the alias)."""
    added = not hasattr(np, 'float')
    if added:
        np.float = float
    try:
        yield
    finally:
        if added:
            del np.float


@METRICS.register_module()
class CiCoVISMetric(YouTubeVISMetric):
    """YouTube-VIS AP / CodaLab export over streamed clips.

    Args:
        metric_items (list[str], optional): reported items; default
            ``AP_ITEMS`` (AP, AP50, AP75, APs/m/l, AR1, AR10, ARs/m/l), each
            output as ``youtube_vis/segm_<item>``, e.g.
            ``youtube_vis/segm_mAP``.
        outfile_prefix (str, optional): with ``format_only`` writes
            ``{prefix}.json`` and ``{prefix}.submission_file.zip``
            (``results.json`` inside).
        format_only (bool): export only (splits without ground truth).
        labels_per_track (int, optional): None (default): a track's label
            by majority vote over its frames, as mmdet and the authors.
            k: from the mean of its class-score vectors, one result for
            each of its k best classes (:func:`format_video_tracks`).
        aggregate_over (str): a track's score and vote over its
            ``'frames'`` (mmdet) or its ``'clips'`` (the authors).
        **kwargs: ``YouTubeVISMetric`` arguments.
    """

    def __init__(self,
                 metric_items: Optional[Sequence[str]] = AP_ITEMS,
                 outfile_prefix: Optional[str] = None,
                 format_only: bool = False,
                 labels_per_track: Optional[int] = None,
                 aggregate_over: str = 'frames',
                 **kwargs) -> None:
        super().__init__(
            metric_items=list(metric_items) if metric_items else None,
            outfile_prefix=outfile_prefix,
            format_only=format_only,
            **kwargs)
        if format_only and not outfile_prefix:
            raise ValueError('format_only=True needs an outfile_prefix (mmdet '
                             'would write into a deleted temporary folder)')
        check_labels_per_track(labels_per_track)
        self.labels_per_track = labels_per_track
        self.aggregate_over = aggregate_over
        self._frames: Dict[int, Dict[int, tuple]] = defaultdict(dict)
        self._lengths: Dict[int, int] = {}

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        """Buffer the emitted frames of each clip; format a video when all
        its frames have arrived."""
        for track_sample in data_samples:
            for frame in track_sample['video_data_samples']:
                meta = frame.metainfo
                if not meta.get('is_output_frame', True):
                    continue
                vid = meta['video_id']
                self._lengths[vid] = meta['ori_video_length']
                self._frames[vid][meta['frame_id']] = self._frame_entry(frame)
                if len(self._frames[vid]) == self._lengths[vid]:
                    self._finish_video(vid)

    @staticmethod
    def _frame_entry(frame) -> tuple:
        meta = frame.metainfo
        pred = frame.pred_track_instances
        masks = pred.masks
        if not isinstance(masks, list):  # binary masks: encode here
            from mmdet.structures.mask import encode_mask_results
            masks = encode_mask_results(masks.cpu().numpy())
        result = dict(
            img_id=meta['img_id'],
            bboxes=pred.bboxes.cpu().numpy(),
            # float64, so mmdet's mean over frames is exact for equal frame
            # scores (docs/mmdet_traps.md#vis-metric)
            scores=pred.scores.cpu().numpy().astype(np.float64),
            labels=pred.labels.cpu().numpy(),
            instances_id=pred.instances_id.cpu().numpy(),
            masks=masks,
            clip_index=meta.get('clip_index'))
        if 'cls_scores' in pred:
            result['cls_scores'] = pred.cls_scores.cpu().numpy().astype(
                np.float64)
        gt = dict(
            width=meta['ori_shape'][1],
            height=meta['ori_shape'][0],
            img_id=meta['img_id'],
            frame_id=meta['frame_id'],
            video_id=meta['video_id'],
            video_length=meta['ori_video_length'],
            anns=meta.get('instances', []))
        return result, gt

    def _finish_video(self, vid: int) -> None:
        frames = self._frames.pop(vid)
        length = self._lengths.pop(vid)
        order = sorted(frames)
        if order != list(range(length)):
            missing = sorted(set(range(length)) - set(order))
            warnings.warn(f'video {vid}: frames {missing} never emitted; '
                          'they count as frames without predictions')
            for f in missing:
                frames[f] = self._empty_entry(frames[order[0]], f)
            order = list(range(length))
        preds, gts = zip(*[frames[f] for f in order])
        gt_results = self._format_one_video_gts(gts)
        self._vis_meta_info['videos'][-1]['length'] = length
        pred_results = self._format_one_video_preds(preds)
        self.results.append((pred_results, gt_results))

    def _format_one_video_preds(self, pred_dicts: Tuple[dict]) -> List:
        """mmdet's formatter, as the shared :func:`format_video_tracks` (the
        demo and ``VideoInferencer.to_vis_json`` export the same): the last
        formatted video's id and number of images."""
        images = self._vis_meta_info['images']
        starts = [i for i, img in enumerate(images) if img['frame_id'] == 0]
        return format_video_tracks(
            pred_dicts,
            self._vis_meta_info['videos'][-1]['id'],
            num_frames=len(images) - starts[-1],
            labels_per_track=self.labels_per_track,
            aggregate_over=self.aggregate_over)

    def _format_one_video_gts(self, gt_dicts: Tuple[dict]) -> List[dict]:
        """mmdet's formatter with ``areas`` from the masks.

        mmdet 3.3 stores the box area as each frame's area, while the
        official YouTube-VIS json and evaluator use the mask area (the
        ``avg_area`` of the non-empty frames decides small / medium / large;
        predictions already use their mask areas). Frames where the object
        is absent keep ``None``.
        """
        vis_anns = super()._format_one_video_gts(gt_dicts)
        if not gt_dicts:
            return vis_anns
        height, width = gt_dicts[0]['height'], gt_dicts[0]['width']
        for ann in vis_anns:
            ann['areas'] = [
                None if seg is None else self._mask_area(
                    seg, height, width, ann) for seg in ann['segmentations']
            ]
        return vis_anns

    @staticmethod
    def _mask_area(seg: Any, height: int, width: int, ann: dict) -> int:
        """Pixel count of a ground-truth mask (polygons or RLE); an error
        names the video and instance of ``ann``."""
        try:
            rle = segmentation_to_rle(seg, height, width)
        except ValueError as err:
            raise ValueError(
                f'video {ann["video_id"]} instance {ann["id"]}: ground-truth '
                f'mask: {err}') from err
        return int(mask_utils.area(rle))

    @staticmethod
    def _empty_entry(like: tuple, frame_id: int) -> tuple:
        result, gt = like
        empty = dict(
            img_id=-1,
            bboxes=np.zeros((0, 4), np.float32),
            scores=np.zeros(0, np.float64),
            labels=np.zeros(0, np.int64),
            instances_id=np.zeros(0, np.int64),
            masks=[])
        return empty, dict(gt, frame_id=frame_id, anns=[], img_id=-1)

    def evaluate(self, size: int = 1) -> dict:
        """Finish incomplete videos (with a warning), evaluate, and reset the
        state so the next evaluation (next validation epoch) works."""
        for vid in list(self._frames):
            warnings.warn(f'video {vid} is incomplete at evaluation: '
                          f'{len(self._frames[vid])} of {self._lengths[vid]} '
                          'frames (check the test sampler)')
            self._finish_video(vid)
        try:
            return super().evaluate(size)
        finally:
            self._vis_meta_info = defaultdict(list)
            self._frames.clear()
            self._lengths.clear()

    def compute_metrics(self, results: List) -> Dict[str, float]:
        num_preds = sum(len(preds) for preds, _ in results)
        if num_preds == 0 and not self.format_only:
            MMLogger.get_current_instance().warning(
                'CiCoVISMetric: no prediction at all; AP is 0')
            return {f'segm_{k}': 0.0 for k in self.metric_items}
        with numpy_float_alias():
            return super().compute_metrics(results)

    def save_pred_results(self, pred_results: List) -> None:
        """CodaLab export with the dataset's own category ids; checks that
        every prediction has one entry per frame of its video."""
        cat_ids = (self.dataset_meta or {}).get('cat_ids')
        lengths = {
            v['id']: v.get('length')
            for v in self._vis_meta_info.get('videos', [])
        }
        for pred in pred_results:
            if cat_ids is not None:
                pred['category_id'] = int(cat_ids[pred['category_id'] - 1])
            expect = lengths.get(pred['video_id'])
            if expect is not None and len(pred['segmentations']) != expect:
                raise RuntimeError(
                    f'video {pred["video_id"]}: {len(pred["segmentations"])} '
                    f'segmentations for {expect} frames')
        with_preds = {p['video_id'] for p in pred_results}
        missing = [v for v in lengths if v not in with_preds]
        if missing:
            MMLogger.get_current_instance().warning(
                f'{len(missing)} videos have no prediction (e.g. '
                f'{missing[:5]}); they are absent from results.json')
        out_dir = osp.dirname(self.outfile_prefix or '')
        if out_dir:
            os.makedirs(out_dir, exist_ok=True)
        super().save_pred_results(pred_results)
