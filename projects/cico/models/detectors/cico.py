"""CiCo: clip-in clip-out one-stage video instance segmentation.

Training: a batch of clips (N, T, 3, H, W) -> backbone + FPN per frame ->
CPH (``bbox_head``) and CMH (``mask_head``) on the folded clip -> losses.

Testing streams one clip per step (``VideoClipSampler``): backbone features of
the frames shared with the previous clip are reused, the clip's candidates get
clip masks (Eq. 5/6) and go through clip-level Fast NMS, the ``ClipTracker``
links them to the video's tracks (Eq. 11), and the frames no later clip covers
are emitted with masks at the original frame size (RLE by default). All
per-video state is dropped after the video's last clip.
"""
from typing import Dict, List, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS
from mmdet.structures import TrackSampleList
from mmdet.structures.mask import encode_mask_results
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from ..task_modules.clip_nms import clip_fast_nms
from ..utils.clip_instances import build_clip_instances


@MODELS.register_module()
class CiCo(BaseMOTModel):
    """CiCo-Yolact / CiCo-CondInst (the mask FCN of ``mask_head`` decides).

    Args:
        backbone, neck (dict): per-frame 2D backbone and FPN (P3-P7).
        bbox_head (dict): CPH (``CiCoClipHead``).
        mask_head (dict): CMH (``ClipProtoNet``) with its ``mask_fcn``.
        tracker (dict, optional): ``ClipTracker``; without it each clip's
            detections get fresh ids (no linking across clips).
        clip_len (int): T; must match the datasets' ``clip_len``.
        train_cfg, test_cfg (dict): passed to both heads.
    """

    def __init__(self,
                 backbone: ConfigType,
                 neck: ConfigType,
                 bbox_head: ConfigType,
                 mask_head: ConfigType,
                 tracker: OptConfigType = None,
                 clip_len: int = 3,
                 data_preprocessor: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(data_preprocessor, init_cfg)
        self.clip_len = clip_len
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.bbox_head = MODELS.build(
            dict(bbox_head, clip_len=clip_len, train_cfg=train_cfg,
                 test_cfg=test_cfg))
        self.mask_head = MODELS.build(
            dict(mask_head, clip_len=clip_len, train_cfg=train_cfg,
                 test_cfg=test_cfg))
        if self.bbox_head.num_params != self.mask_head.num_params:
            raise ValueError(
                f'bbox_head predicts {self.bbox_head.num_params} mask '
                f'parameters but mask_head.mask_fcn needs '
                f'{self.mask_head.num_params}: set bbox_head.num_params')
        self.tracker = MODELS.build(tracker) if tracker else None
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self._stream: Dict = {}

    # ------------------------------------------------------------ common
    def extract_feat(self, frames: Tensor) -> Tuple[Tensor]:
        """(M, 3, H, W) frames -> FPN levels, each (M, C, h, w)."""
        return self.neck(self.backbone(frames))

    def _check_clip(self, inputs: Tensor) -> None:
        if inputs.dim() != 5 or inputs.shape[1] != self.clip_len:
            raise ValueError(
                f'CiCo expects clips (N, T={self.clip_len}, 3, H, W), got '
                f'{tuple(inputs.shape)}: model.clip_len and the datasets\' '
                'clip_len must be equal')

    def _forward(self, inputs: Tensor, data_samples=None) -> tuple:
        """Raw head outputs of a batch of clips (for FLOPs/benchmarks)."""
        self._check_clip(inputs)
        x = self.extract_feat(inputs.flatten(0, 1))
        return self.bbox_head(x), self.mask_head(x)

    # ------------------------------------------------------------- train
    def loss(self, inputs: Tensor, data_samples: TrackSampleList,
             **kwargs) -> dict:
        """Losses of a batch of clips.

        Args:
            inputs (Tensor): (N, T, 3, H, W).
            data_samples (list[TrackDataSample]): N clips of T frames with
                ``gt_instances`` (bboxes, labels, masks, instances_ids).
        """
        self._check_clip(inputs)
        x = self.extract_feat(inputs.flatten(0, 1))
        frame_metas = [f.metainfo for s in data_samples for f in s]
        clip_gts = [build_clip_instances(s) for s in data_samples]
        losses = self.bbox_head.loss(x, clip_gts, frame_metas)
        positive_infos = self.bbox_head.get_positive_infos()
        protos = self.mask_head(x)
        losses.update(
            self.mask_head.loss_by_feat(protos, positive_infos, clip_gts,
                                        frame_metas))
        return losses

    # -------------------------------------------------------------- test
    def _clip_features(self, frames: Tensor,
                       metas: List[dict]) -> Tuple[Tensor]:
        """FPN features of one clip, reusing the previous clip's features
        of shared frames (same video, previous clip index) and computing
        each distinct frame once (padding repeats a frame)."""
        state = self._stream
        video_id, clip_index = metas[0].get('video_id'), metas[0].get(
            'clip_index', 0)
        continues = state.get('video_id') == video_id and state.get(
            'clip_index') == clip_index - 1
        cache = state.get('feats', {}) if continues else {}
        if not continues:
            state.pop('cls', None)  # class maps of another video
        frame_ids = [m.get('frame_id', k) for k, m in enumerate(metas)]
        todo = sorted({f for f in frame_ids if f not in cache})
        if todo:
            first = {f: frame_ids.index(f) for f in todo}
            feats = self.extract_feat(frames[[first[f] for f in todo]])
            for j, f in enumerate(todo):
                cache[f] = tuple(lvl[j:j + 1] for lvl in feats)
        x = tuple(
            torch.cat([cache[f][lvl] for f in frame_ids])
            for lvl in range(len(cache[frame_ids[0]])))
        keep = set(frame_ids)  # at most T frames: memory stays flat
        state.update(
            video_id=video_id,
            clip_index=clip_index,
            feats={f: v
                   for f, v in cache.items() if f in keep})
        return x

    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                **kwargs) -> TrackSampleList:
        """Detect, segment and track one clip; emit its finished frames.

        Every frame's ``DetDataSample`` gets ``pred_track_instances``
        (``instances_id``, ``labels``, ``scores``, ``bboxes`` and ``masks``
        at the original frame size, RLE-encoded unless
        ``test_cfg.encode_masks=False``); frames that a later clip will
        emit (``is_output_frame=False``) get empty ones.
        """
        self._check_clip(inputs)
        if inputs.shape[0] != 1:
            raise ValueError('CiCo.predict takes one clip per step '
                             f'(batch_size=1), got {inputs.shape[0]}')
        sample = data_samples[0]
        metas = [f.metainfo for f in sample]
        x = self._clip_features(inputs[0], metas)
        dets = self.predict_clip(x, metas)
        if self.tracker is not None:
            frame_nums = torch.as_tensor([
                -1 if m.get('is_pad_frame', False) else m.get('frame_id', k)
                for k, m in enumerate(metas)
            ])
            dets = self.tracker.track(dets, metas[0].get('clip_index', 0),
                                      frame_nums)
        else:
            dets.instances_id = torch.arange(len(dets))
        for t, frame in enumerate(sample):
            emit = frame.metainfo.get('is_output_frame', True)
            frame.pred_track_instances = self._frame_results(
                dets if emit else dets[:0], t, frame.metainfo, rescale)
        if metas[0].get('is_last_clip', True):
            self._stream = {}
            if self.tracker is not None:
                self.tracker.reset()
        return [sample]

    def predict_clip(self, x: Tuple[Tensor],
                     metas: List[dict]) -> InstanceData:
        """Clip detections after NMS: ``scores``, ``labels``,
        ``frame_bboxes`` (k, T, 4) and ``bboxes`` (k, 4) in input pixels,
        ``embeds``, ``mask_probs`` (k, T, h, w) at the prototype
        resolution and ``masks`` (their binarisation)."""
        cfg = self.test_cfg
        dets = self.bbox_head.predict_clip(
            x, metas, cfg, cls_cache=self._stream.setdefault('cls', {}))[0]
        if len(dets) == 0:  # nothing to segment: skip the mask head
            return self._empty_dets(dets, x)
        protos = self.mask_head(x)
        dets = self.mask_head.predict_by_feat(protos, [dets], metas)[0]
        if cfg.get('rescore_with_quality', True):
            dets.rank_scores = dets.scores * dets.quality
        dets = clip_fast_nms(dets, cfg.get('nms', {}))
        dets.masks = dets.mask_probs > cfg.get('mask_thr', 0.5)
        real = torch.as_tensor(
            [not m.get('is_pad_frame', False) for m in metas],
            device=dets.masks.device)
        area = dets.masks[:, real].flatten(2).sum(-1)  # (k, T_real)
        keep = (area > cfg.get('min_mask_area', 5)).any(1) \
            if len(dets) else area.new_zeros(0, dtype=torch.bool)
        # embeddings of the survivors only (sparse track tower)
        return self.bbox_head.add_embeddings(x, dets[keep])

    def _empty_dets(self, dets: InstanceData,
                    x: Tuple[Tensor]) -> InstanceData:
        t = self.clip_len
        h, w = [s * 2 for s in x[0].shape[-2:]]  # prototype resolution
        dets.mask_probs = x[0].new_zeros(0, t, h, w)
        dets.masks = dets.mask_probs.bool()
        dets.embeds = x[0].new_zeros(0, self.bbox_head.embed_dim)
        return dets

    def _frame_results(self, dets: InstanceData, t: int, meta: dict,
                       rescale: bool) -> InstanceData:
        """Frame t of the clip detections at the original frame size."""
        ori_h, ori_w = meta['ori_shape'][:2]
        res = InstanceData()
        res.instances_id = dets.instances_id.cpu()
        res.labels = dets.labels.cpu()
        res.scores = dets.scores.cpu()
        bboxes = dets.frame_bboxes[:, t] if len(dets) else \
            dets.scores.new_zeros(0, 4)
        probs = dets.mask_probs[:, t] if len(dets) else \
            dets.scores.new_zeros(0, 1, 1)
        if rescale:
            sf = bboxes.new_tensor(meta.get('scale_factor', (1., 1.))).repeat(2)
            bboxes = bboxes / sf
            img_h, img_w = meta['img_shape'][:2]
            pad_h, pad_w = meta.get('batch_input_shape', meta['img_shape'])[:2]
            h, w = probs.shape[-2:]
            probs = probs[:, :int(np.ceil(img_h * h / pad_h)), :int(
                np.ceil(img_w * w / pad_w))]
            if len(dets):
                probs = F.interpolate(
                    probs[None], (ori_h, ori_w),
                    mode='bilinear',
                    align_corners=False)[0]
            else:
                probs = probs.new_zeros(0, ori_h, ori_w)
        res.bboxes = bboxes.cpu()
        masks = (probs > self.test_cfg.get('mask_thr', 0.5)).cpu()
        if self.test_cfg.get('encode_masks', True):
            res.masks = encode_mask_results(masks.numpy())
        else:
            res.masks = masks
        return res
