"""Run CiCo on any video: an mp4, a folder of frames, or a camera.

    from projects.cico.apis import init_model, VideoInferencer
    model = init_model('configs/cico_yolact_r50_ytvis19.py', 'ckpt.pth')
    for result in VideoInferencer(model).stream('in.mp4'):
        result.frame_index, result.image, result.instances

Frames are read and processed clip by clip (T frames, T_o shared with the
previous clip, the model's streaming test path): at most T + 1 frames are held
in memory whatever the video length, and a frame's result is yielded as soon as
no later clip covers it.
"""
import copy
import glob
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmengine.structures import InstanceData

from mmdet.registry import MODELS
from ..datasets.transforms import default_clip_overlap

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> torch.nn.Module:
    """Build a CiCo model from a config and load a (trusted) checkpoint.

    The config is kept on ``model.cfg``; the class names come from the
    checkpoint's ``dataset_meta`` or, failing that, the config's dataset.
    """
    import projects.cico  # noqa: F401  (registry + checkpoint loader)
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    if checkpoint is not None:  # no ImageNet download under a checkpoint
        model_cfg.backbone.init_cfg = None
    model = MODELS.build(model_cfg)
    meta = {}
    if checkpoint is not None:
        ckpt = load_checkpoint(model, checkpoint, map_location='cpu')
        meta = ckpt.get('meta', {}).get('dataset_meta', {}) or {}
    if 'classes' not in meta:
        from mmdet.registry import DATASETS
        ds_type = cfg.test_dataloader.dataset.type
        meta = dict(classes=DATASETS.get(ds_type).METAINFO.get('classes'))
    model.dataset_meta = meta
    model.cfg = cfg
    return model.to(device).eval()


@dataclass
class FrameResult:
    """The result of one frame: its index in the video, the BGR frame and
    the tracked ``instances`` (``instances_id``, ``labels``, ``scores``,
    ``bboxes`` (n, 4) and ``masks`` (n, H, W) bool, original size)."""
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


class VideoInferencer:
    """Streams a video through a CiCo model clip by clip.

    Args:
        model: from :func:`init_model`.
        clip_overlap (int, optional): T_o; default the config's test dataset
            ``clip_overlap``.
        score_thr (float): drop instances below this score in the results.
    """

    def __init__(self,
                 model: torch.nn.Module,
                 clip_overlap: Optional[int] = None,
                 score_thr: float = 0.) -> None:
        self.model = model
        cfg = model.cfg
        test_ds = cfg.test_dataloader.dataset
        self.clip_len = model.clip_len
        if clip_overlap is None:  # the test dataset's, with its default
            clip_overlap = test_ds.get('clip_overlap')
        if clip_overlap is None:
            clip_overlap = default_clip_overlap(self.clip_len)
        self.clip_overlap = clip_overlap
        if not 0 <= self.clip_overlap < self.clip_len:
            raise ValueError(f'clip_overlap must be in [0, {self.clip_len})')
        self.score_thr = score_thr
        self.pipeline = Compose(self._array_pipeline(test_ds.pipeline))
        self.model.test_cfg['encode_masks'] = False

    @staticmethod
    def _array_pipeline(pipeline: list) -> list:
        """The test pipeline with frames taken from memory."""
        pipeline = copy.deepcopy(pipeline)
        for step in pipeline:
            for t in step.get('transforms', []):
                if t['type'] == 'LoadImageFromFile':
                    t.clear()
                    t['type'] = 'mmdet.LoadImageFromNDArray'
        return pipeline

    def _clip_data(self, frames: List[np.ndarray], first: int,
                   clip_index: int, is_last: bool) -> dict:
        t, step = self.clip_len, self.clip_len - self.clip_overlap
        real = len(frames)
        info = dict(
            img=[], img_id=[], img_path=[], frame_id=[], video_id=[],
            ori_video_length=[], video_length=[], clip_index=[],
            is_last_clip=[], is_new_frame=[], is_output_frame=[],
            is_pad_frame=[])
        for k in range(t):
            pad = k >= real
            f = first + min(k, real - 1)
            info['img'].append(frames[min(k, real - 1)])
            info['img_id'].append(f)
            info['img_path'].append(None)
            info['frame_id'].append(f)
            info['video_id'].append(0)
            info['ori_video_length'].append(-1)  # unknown while streaming
            info['video_length'].append(t)
            info['clip_index'].append(clip_index)
            info['is_last_clip'].append(is_last)
            info['is_new_frame'].append(not pad and
                                        (clip_index == 0 or
                                         k >= self.clip_overlap))
            info['is_output_frame'].append(not pad and (k < step or is_last))
            info['is_pad_frame'].append(pad)
        return self.pipeline(info)

    def stream(self, source: Union[str, int]) -> Iterator[FrameResult]:
        """Yield one :class:`FrameResult` per frame, in order."""
        frames_iter, _ = open_source(source)
        yield from self.stream_frames(frames_iter)

    def stream_frames(self, frames_iter) -> Iterator[FrameResult]:
        """Same as :meth:`stream` for any iterator of BGR frames."""
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
            is_last = exhausted and len(buffer) <= t
            clip_frames = buffer[:t]
            data = pseudo_collate(
                [self._clip_data(clip_frames, start, clip_index, is_last)])
            with torch.no_grad():
                out = self.model.test_step(data)[0]
            for k, frame in enumerate(out):
                if frame.metainfo['is_output_frame']:
                    inst = frame.pred_track_instances
                    inst = inst[inst.scores >= self.score_thr]
                    yield FrameResult(start + k, clip_frames[k], inst)
            if is_last:
                return
            buffer = buffer[step:]
            start += step
            clip_index += 1
