"""Run CiCo on any video: an mp4, a folder of frames, or a camera.

    from projects.cico.apis import init_model, VideoInferencer
    model = init_model('configs/cico_yolact_r50_ytvis19.py', 'ckpt.pth')
    for result in VideoInferencer(model).stream('in.mp4'):
        result.frame_index, result.image, result.instances
    inferencer.to_vis_json()  # YouTube-VIS results of the streamed video

Frames are read and processed clip by clip (T frames, T_o shared with the
previous clip, the model's streaming test path): at most T + 1 frames are held
in memory whatever the video length, and a frame's result is yielded as soon as
no later clip covers it.
"""
import copy
import glob
import os.path as osp
import warnings
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterator, List, Optional, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmdet.apis import init_track_model
from mmdet.registry import DATASETS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from ..evaluation.vis_format import format_video_tracks
from ..utils.clip_layout import (ClipLayout, check_clip_schedule,
                                 clip_frame_metainfo, resolve_clip_overlap,
                                 stream_clip, stream_clip_is_last)
from ..utils.fuse_conv_bn import fuse_conv_bn as fold_batch_norms
from ..utils.masks import rle_to_masks
from ..utils.memory_format import to_channels_last
from ..utils.tool_config import check_clip_len
from .onnx_backend import OrtClipModel

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a CiCo model from a config and load a (trusted) checkpoint.

    mmdet's ``init_track_model`` with the CiCo defaults: the config's
    ``default_scope``, no ImageNet download of the backbone under a
    checkpoint, and class names from the checkpoint's ``dataset_meta`` or,
    failing that, the config's test dataset. The config (``cfg_options``
    merged) is kept on ``model.cfg``; the model is in eval mode on
    ``device``.
    """
    import projects.cico  # noqa: F401  (registry + checkpoint loader)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    check_clip_len(cfg)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    build_cfg = copy.deepcopy(cfg)
    if checkpoint is not None:  # no ImageNet download under a checkpoint
        build_cfg.model.backbone.init_cfg = None
    with warnings.catch_warnings():  # the missing class names are set below
        warnings.filterwarnings('ignore', message='dataset_meta or class')
        model = init_track_model(build_cfg, checkpoint, device=device)
    meta = dict(getattr(model, 'dataset_meta', None) or {})
    if meta.get('classes') is None:
        ds_type = cfg.test_dataloader.dataset.type
        meta = dict(classes=DATASETS.get(ds_type).METAINFO.get('classes'))
    model.dataset_meta = meta
    model.cfg = cfg
    return model


@dataclass
class FrameResult:
    """The result of one frame: its index in the video, the BGR frame and
    the tracked ``instances`` (``instances_id``, ``labels``, ``scores``,
    ``bboxes`` (n, 4) and ``masks`` (n, H, W) bool, original size: the
    model's RLEs decoded)."""
    frame_index: int
    image: np.ndarray
    instances: InstanceData


def open_source(source: Union[str, int]):
    """Frames of an mp4/any OpenCV video, a folder of images or a camera
    index, as an iterator of BGR arrays, plus the source fps (or None)."""
    if isinstance(source, int) or (isinstance(source, str)
                                   and source.isdigit()):
        cap = cv2.VideoCapture(int(source))
        if not cap.isOpened():
            raise IOError(f'cannot open camera {source}')
        return _read_capture(cap), cap.get(cv2.CAP_PROP_FPS) or None
    if osp.isdir(source):
        files = sorted(
            f for f in glob.glob(osp.join(source, '*'))
            if f.lower().endswith(IMG_EXTENSIONS))
        if not files:
            raise IOError(f'no image ({", ".join(IMG_EXTENSIONS)}) in '
                          f'folder {source}')
        return _read_files(files), None
    if not osp.isfile(source):
        raise FileNotFoundError(f'video input {source} does not exist')
    cap = cv2.VideoCapture(source)
    ok, first = cap.read()
    if not cap.isOpened() or not ok:
        raise IOError(f'cannot read video {source}: not a video OpenCV can '
                      'decode')
    return _read_capture(cap, first), cap.get(cv2.CAP_PROP_FPS) or None


def _read_capture(cap, first=None) -> Iterator[np.ndarray]:
    try:
        if first is not None:
            yield first
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def _read_files(files: List[str]) -> Iterator[np.ndarray]:
    for f in files:
        img = cv2.imread(f)
        if img is None:
            raise IOError(f'cannot read image {f}')
        yield img


def instance_id_map(instances: InstanceData) -> np.ndarray:
    """The (H, W) uint16 track-id map of a frame's decoded instances: 0 is
    background, a pixel of track ``i`` is ``i + 1``; where masks overlap the
    higher score wins."""
    masks = instances.masks
    masks = masks.cpu().numpy() if hasattr(masks, 'cpu') else \
        np.asarray(masks, bool)
    out = np.zeros(masks.shape[1:], np.uint16)
    scores = instances.scores.cpu().numpy()
    ids = instances.instances_id.cpu().numpy()
    for k in np.argsort(scores, kind='stable'):  # highest score painted last
        out[masks[k]] = int(ids[k]) + 1
    return out


class VideoInferencer:
    """Streams a video through a CiCo model clip by clip.

    Args:
        model: from :func:`init_model`.
        clip_overlap (int, optional): T_o; default the config's test dataset
            ``clip_overlap``.
        score_thr (float): drop instances below this score in the results
            (and in :meth:`to_vis_json`).
        fp16 (bool, optional): run the network in half precision (CUDA
            float16, CPU bfloat16; post-processing float32). None keeps the
            model's setting (``test_cfg.fp16``).
        onnx_file (str, optional): run the clip network of this ONNX export
            (``tools/deployment/export_onnx.py``) in onnxruntime instead of
            PyTorch (:class:`~.onnx_backend.OrtClipModel`); the
            post-processing is the same.
        fuse_conv_bn (bool): fold the model's batch norms into the convs
            before them (in place; the same results up to float rounding,
            one pass less per BN: docs/speed.md). The model can no longer be
            trained afterwards.
        channels_last (bool): the model's conv weights in channels-last
            memory format (in place; the same results, docs/speed.md).
        inference_mode (bool): run the clips under ``torch.inference_mode()``
            instead of ``torch.no_grad()`` (the same results). The result
            tensors are then inference tensors: they cannot be modified in
            place outside ``torch.inference_mode()`` (clone them first).
        clip_schedule (str, optional): how the clips end the video,
            ``'project'`` or ``'authors'``
            (:mod:`~projects.cico.utils.clip_layout`); default the
            config's test dataset ``clip_schedule`` (``'project'`` when it
            sets none).
    """

    def __init__(self,
                 model: torch.nn.Module,
                 clip_overlap: Optional[int] = None,
                 score_thr: float = 0.,
                 fp16: Optional[bool] = None,
                 onnx_file: Optional[str] = None,
                 fuse_conv_bn: bool = False,
                 channels_last: bool = False,
                 inference_mode: bool = False,
                 clip_schedule: Optional[str] = None) -> None:
        self.model = model
        self.inference_mode = inference_mode
        if fuse_conv_bn:
            model.eval()
            fold_batch_norms(model)
        if channels_last:
            to_channels_last(model)
        if fp16 is not None:
            model.half_precision = bool(fp16)
        # what runs a clip: the model, or its network in onnxruntime
        self.runner = model if onnx_file is None else OrtClipModel(
            model, onnx_file)
        cfg = model.cfg
        test_ds = cfg.test_dataloader.dataset
        self.clip_len = model.clip_len
        if clip_overlap is None:  # the test dataset's, with its default
            clip_overlap = test_ds.get('clip_overlap')
        self.clip_overlap = resolve_clip_overlap(self.clip_len, clip_overlap)
        self.clip_schedule = check_clip_schedule(
            clip_schedule or test_ds.get('clip_schedule', 'project'))
        self.score_thr = score_thr
        self.pipeline = Compose(self._array_pipeline(test_ds.pipeline))
        self._track_frames: List[dict] = []  # of the video being streamed

    @staticmethod
    def _array_pipeline(pipeline: list) -> list:
        """The test pipeline with frames taken from memory, converted as the
        file loader converts them (``to_float32``), so that the resize and
        the padding of the demo see the values ``tools/test.py`` sees."""
        pipeline = copy.deepcopy(pipeline)
        for step in pipeline:
            for t in step.get('transforms', []):
                if t['type'] == 'LoadImageFromFile':
                    to_float32 = t.get('to_float32', False)
                    t.clear()
                    t.update(
                        type='mmdet.LoadImageFromNDArray',
                        to_float32=to_float32)
        return pipeline

    def _clip_data(self, clip: ClipLayout, frames: List[np.ndarray]) -> dict:
        """The pipeline output of one clip: ``frames`` are its real frames,
        from frame ``clip.frame_inds[0]`` of the stream on."""
        first = clip.frame_inds[0]
        info = defaultdict(list)
        for k, f in enumerate(clip.frame_inds):
            frame = dict(
                img=frames[f - first],
                img_id=f,
                img_path=None,
                frame_id=f,
                video_id=0,
                # the video length is unknown while streaming
                **clip_frame_metainfo(clip, k, ori_video_length=-1))
            for key, value in frame.items():
                info[key].append(value)
        return self.pipeline(dict(info))

    def _frame_result(self, frame_index: int, image: np.ndarray,
                      instances: InstanceData) -> FrameResult:
        """Instances above ``score_thr``, their RLE masks decoded to
        (n, H, W) bool at the frame's size."""
        inst = instances[instances.scores >= self.score_thr]
        h, w = image.shape[:2]
        rles = list(inst.get('masks', []))
        self._track_frames.append(
            dict(
                instances_id=inst.instances_id.cpu().numpy(),
                labels=inst.labels.cpu().numpy(),
                # float64 as the metric (exact means of equal scores)
                scores=inst.scores.cpu().numpy().astype(np.float64),
                cls_scores=(inst.cls_scores.cpu().numpy().astype(np.float64)
                            if 'cls_scores' in inst else None),
                masks=[dict(r) for r in rles]))
        inst.masks = rle_to_masks(rles, h, w)
        return FrameResult(frame_index, image, inst)

    def to_vis_json(self,
                    video_id: int = 1,
                    labels_per_track: Optional[int] = None) -> List[dict]:
        """YouTube-VIS results of the frames streamed so far by the last
        :meth:`stream` / :meth:`stream_frames`: one dict per track with
        ``video_id``, ``category_id`` (majority vote over its frames; the
        dataset's ``cat_ids`` of ``model.dataset_meta`` if any, else
        label + 1), ``score`` (mean over its frames) and ``segmentations``
        (a compressed RLE per frame, ``None`` where the track is absent),
        aggregated as :class:`~projects.cico.evaluation.CiCoVISMetric`
        (``labels_per_track`` as there: labels from the mean class-score
        vectors, k results per track)."""
        cat_ids = (getattr(self.model, 'dataset_meta', None)
                   or {}).get('cat_ids')
        frames = [dict(f, masks=list(f['masks'])) for f in self._track_frames]
        return format_video_tracks(
            frames,
            video_id,
            cat_ids=cat_ids,
            labels_per_track=labels_per_track)

    def stream(self, source: Union[str, int]) -> Iterator[FrameResult]:
        """Yield one :class:`FrameResult` per frame, in order."""
        frames_iter, _ = open_source(source)
        yield from self.stream_frames(frames_iter)

    def stream_frames(self, frames_iter) -> Iterator[FrameResult]:
        """Same as :meth:`stream` for any iterator of BGR frames."""
        self._track_frames = []
        t, step = self.clip_len, self.clip_len - self.clip_overlap
        buffer: List[np.ndarray] = []
        start, clip_index = 0, 0
        frames_iter = iter(frames_iter)
        exhausted = False
        while True:
            # T frames of this clip plus one look-ahead frame: is it the last?
            while not exhausted and len(buffer) < t + 1:
                try:
                    buffer.append(next(frames_iter))
                except StopIteration:
                    exhausted = True
            if not buffer:
                return
            is_last = stream_clip_is_last(
                len(buffer), exhausted, t, self.clip_overlap,
                self.clip_schedule)
            clip_frames = buffer[:t]
            clip = stream_clip(clip_index, t, self.clip_overlap,
                               len(clip_frames), is_last, self.clip_schedule)
            data = pseudo_collate([self._clip_data(clip, clip_frames)])
            with (torch.inference_mode()
                  if self.inference_mode else torch.no_grad()):
                out = self.runner.test_step(data)[0]
            for k, frame in enumerate(out):
                if frame.metainfo['is_output_frame']:
                    yield self._frame_result(start + k, clip_frames[k],
                                             frame.pred_track_instances)
            if is_last:
                return
            buffer = buffer[step:]
            start += step
            clip_index += 1
