"""CiCo: clip-in clip-out one-stage video instance segmentation.

Training: a batch of clips (N, T, 3, H, W) -> backbone + FPN per frame ->
CPH (``bbox_head``) and CMH (``mask_head``) on the N*T frames, each with
mmdet's head contract (one ``DetDataSample`` per frame) -> losses.

Testing streams one clip per step (``VideoClipSampler``). A
:class:`ClipStream` keeps the per-video state: features (and 2D class maps)
of the frames shared with the previous clip are reused. The clip's
candidates (:mod:`..dense_heads.clip_predictor`) get clip masks (Eq. 5/6)
and go through clip-level Fast NMS, the ``ClipTracker`` links them to the
video's tracks (Eq. 11), and the frames no later clip covers are emitted
with RLE-encoded masks at the original frame size.
"""
from functools import partial
from typing import Any, Callable, List, Optional, Tuple

import torch
from mmdet.models.mot import BaseMOTModel
from mmdet.registry import MODELS, TASK_UTILS
from mmdet.structures import TrackSampleList
from mmdet.structures.mask import encode_mask_results
from mmdet.utils import ConfigType, OptConfigType, OptMultiConfig
from mmengine.structures import InstanceData
from mmengine.utils import apply_to
from torch import Tensor

from ...utils.clip_layout import clip_layout_of
from ..trackers.base_clip_tracker import TrackingClip
from ..utils.clip_instances import clip_ground_truth
from .clip_stream import ClipStream


def to_float32(out: Any) -> Any:
    """Floating tensors of ``out`` (nested tuples/lists) as float32."""
    return apply_to(out,
                    lambda x: isinstance(x, Tensor) and x.is_floating_point(),
                    lambda x: x.float())


def check_no_mask_thr(test_cfg: OptConfigType) -> None:
    """The masks' threshold lives in one place, the mask head: a
    ``mask_thr`` left in ``test_cfg`` (or its ``nms`` / ``reference``) is
    an error rather than a second, silently ignored threshold."""
    cfg = test_cfg or {}
    places = [('test_cfg', cfg)] + [(f'test_cfg.{k}', cfg[k])
                                    for k in ('nms', 'reference')
                                    if isinstance(cfg.get(k), dict)]
    for where, part in places:
        if 'mask_thr' in part:
            raise ValueError(
                f'{where}.mask_thr is not read: the threshold of the masks '
                '(clip NMS, tracker and output alike) is '
                'model.mask_head.mask_thr')


def build_postprocessor(test_cfg: OptConfigType) -> Callable:
    """The registered post-processor of ``test_cfg.postprocess`` (default
    ``ClipNMSPostProcessor``)."""
    cfg = (test_cfg or {}).get('postprocess',
                               dict(type='ClipNMSPostProcessor'))
    if not isinstance(cfg, dict):
        raise TypeError(
            f'test_cfg.postprocess must be a registered post-processor, '
            f"e.g. dict(type='ReferencePostProcessor') (the authors') or "
            f"dict(type='ClipNMSPostProcessor') (the project's), got "
            f'{cfg!r}')
    return TASK_UTILS.build(cfg)


@MODELS.register_module()
class CiCo(BaseMOTModel):
    """CiCo-Yolact / CiCo-CondInst (the mask FCN of ``mask_head`` decides).

    Args:
        backbone, neck (dict): per-frame 2D backbone and FPN (P3-P7).
        bbox_head (dict): CPH (``CiCoClipHead``); its ``clip_len`` and
            ``num_params`` are set here from ``clip_len`` and the mask head.
        mask_head (dict): CMH (``ClipProtoNet``) with its ``mask_fcn``.
        tracker (dict, optional): ``ClipTracker``; without it each clip's
            detections get fresh ids (no linking across clips).
        clip_len (int): T; must match the datasets' ``clip_len``.
        train_cfg (dict): the CPH's (assigner, sampler, OHEM ratio).
        test_cfg (dict): candidates (``score_thr``, ``nms_pre``), clip NMS
            (``nms``), ``rescore_with_quality``, ``min_mask_area``
            (the masks' threshold is the mask head's ``mask_thr``);
            ``postprocess``: the registered post-processor (default
            ``dict(type='ClipNMSPostProcessor')``;
            ``dict(type='ReferencePostProcessor')`` runs the authors'
            filters and NMS, with overrides in ``reference``).
            ``fp16=True`` runs the network at test time in half precision
            (:attr:`half_precision`).
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
        self.mask_head = MODELS.build(dict(mask_head, clip_len=clip_len))
        num_params = self.mask_head.num_params
        if bbox_head.get('num_params', num_params) != num_params:
            raise ValueError(
                f'bbox_head.num_params={bbox_head["num_params"]} but '
                f'mask_head.mask_fcn needs {num_params}: remove '
                'bbox_head.num_params (the detector sets it)')
        self.bbox_head = MODELS.build(
            dict(
                bbox_head,
                clip_len=clip_len,
                num_params=num_params,
                train_cfg=train_cfg,
                test_cfg=test_cfg))
        self.tracker = MODELS.build(tracker) if tracker else None
        check_no_mask_thr(test_cfg)
        self.postprocessor = build_postprocessor(test_cfg)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.stream = ClipStream()
        # the network (backbone, FPN, dense class tower, CMH) at test time
        # under autocast: CUDA float16, CPU bfloat16; everything after it
        # (sparse towers, decoding, masks, NMS, tracker) stays float32
        self.half_precision = bool((test_cfg or {}).get('fp16', False))

    # ------------------------------------------------------------ common
    def extract_feat(self, frames: Tensor) -> Tuple[Tensor]:
        """(M, 3, H, W) frames -> FPN levels, each (M, C, h, w)."""
        return self.neck(self.backbone(frames))

    def _network(self, fn: Callable, *args) -> Any:
        """``fn(*args)``; with :attr:`half_precision`, under autocast and
        with its tensors returned as float32."""
        if not self.half_precision:
            return fn(*args)
        device = next(self.parameters()).device.type
        dtype = torch.float16 if device == 'cuda' else torch.bfloat16
        with torch.autocast(device_type=device, dtype=dtype):
            out = fn(*args)
        return to_float32(out)

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
        frames = [f for s in data_samples for f in s]
        metas = [f.metainfo for f in frames]
        # the clip ground truth, once for both heads
        clip_gts = clip_ground_truth(frames, self.clip_len)
        losses, positives = self.bbox_head.loss_clips(x, metas, clip_gts)
        losses.update(self.mask_head.loss_clips(x, metas, clip_gts, positives))
        return losses

    # -------------------------------------------------------------- test
    def predict(self,
                inputs: Tensor,
                data_samples: TrackSampleList,
                rescale: bool = True,
                **kwargs) -> TrackSampleList:
        """Detect, segment and track one clip; emit its finished frames.

        Every frame's ``DetDataSample`` gets ``pred_track_instances``
        (``instances_id``, ``labels``, ``scores``, ``bboxes`` and ``masks``:
        a list of RLE dicts at the original frame size); frames that a
        later clip will emit (not ``is_output`` in the clip's layout, the
        ``TrackDataSample`` metainfo ``clip_layout``, which every test clip
        must carry) get empty ones.
        """
        self._check_clip(inputs)
        if inputs.shape[0] != 1:
            raise ValueError('CiCo.predict takes one clip per step '
                             f'(batch_size=1), got {inputs.shape[0]}')
        metas = self._start_clip(data_samples)
        x = self.stream.per_frame(
            'feats',
            lambda idx: self._network(self.extract_feat, inputs[0][idx]))
        dets, protos = self._detect_clip(x, metas)
        return self._track_and_emit(dets, protos, data_samples, rescale)

    def predict_from_outputs(self,
                             head_outs: tuple,
                             protos: Tensor,
                             data_samples: TrackSampleList,
                             rescale: bool = True) -> TrackSampleList:
        """:meth:`predict` from the clip network's dense outputs computed
        elsewhere (an exported model, ``projects.cico.apis.onnx_backend``):
        ``head_outs`` as ``bbox_head(x)`` returns them for the clip's T
        frames and ``protos`` as ``mask_head(x)[0]``. Candidates come from
        the dense ``predict_by_feat`` (what the sparse towers compute at
        the candidates); everything after is :meth:`predict`'s.
        """
        metas = self._start_clip(data_samples)
        dets = self.bbox_head.predict_by_feat(
            *head_outs, batch_img_metas=metas, cfg=self.test_cfg)[0]
        proto_hw = tuple(protos.shape[-2:])
        dets, protos = self._postprocess_clip(dets, protos, metas, proto_hw,
                                              lambda d: d)
        return self._track_and_emit(dets, protos, data_samples, rescale)

    def _start_clip(self, data_samples: TrackSampleList) -> List[dict]:
        """The clip's frame metainfos; a new video resets the tracker.

        Raises:
            ValueError: naming the clip when it carries no layout.
        """
        layout = clip_layout_of(data_samples[0])
        metas = [f.metainfo for f in data_samples[0]]
        if self.stream.start_clip(layout, metas) and self.tracker is not None:
            self.tracker.reset()
        return metas

    def _track_and_emit(self, dets: InstanceData, protos: Optional[Tensor],
                        data_samples: TrackSampleList,
                        rescale: bool) -> TrackSampleList:
        """Link the clip's detections to the video's tracks and write the
        results of the frames the clip emits."""
        sample = data_samples[0]
        layout = clip_layout_of(sample)
        metas = [f.metainfo for f in sample]
        if self.tracker is not None:
            # a padding frame repeats a frame of the clip and is compared as
            # that frame (the authors' tracker does)
            frame_nums = torch.as_tensor(
                [m.get('frame_id', k) for k, m in enumerate(metas)])
            mask_fn = None if protos is None else partial(
                self.mask_head.masks_of_params, protos, metas[0])
            # every output row: the kept detections and the lost tracks
            dets = self.tracker.track(
                dets, TrackingClip(layout.clip_index, frame_nums, mask_fn))
        else:
            dets.instances_id = torch.arange(len(dets))
        for t, frame in enumerate(sample):
            frame.pred_track_instances = self._frame_results(
                dets if layout.is_output[t] else dets[:0], t, frame.metainfo,
                rescale)
        self.stream.end_clip(layout)
        return [sample]

    def predict_clip(self, x: Tuple[Tensor],
                     metas: List[dict]) -> InstanceData:
        """Clip detections after NMS: ``scores``, ``labels``,
        ``frame_bboxes`` (k, T, 4) and ``bboxes`` (k, 4) in input pixels
        (metainfo ``batch_input_shape``), ``params``, ``embeds``,
        ``mask_probs`` (k, T, h, w) at the prototype resolution and
        ``masks`` (their binarisation)."""
        return self._detect_clip(x, metas)[0]

    def _detect_clip(
            self, x: Tuple[Tensor],
            metas: List[dict]) -> Tuple[InstanceData, Optional[Tensor]]:
        """:meth:`predict_clip` and the clip's prototypes (K, T, h, w),
        None when there was no candidate."""
        cls_maps = None
        if not self.bbox_head.cls_tower.is_3d:  # frames are independent
            cls_maps = self.stream.per_frame(
                'cls', lambda idx: self._network(
                    self.bbox_head.clip_class_maps, [lvl[idx] for lvl in x]))
        dets = self.bbox_head.predict_candidates(x, metas, cls_maps,
                                                 self.test_cfg)[0]
        # nothing to segment: the mask head is skipped
        protos = self._clip_prototypes(x) if len(dets) else None
        proto_hw = self.mask_head.proto_size(x)
        return self._postprocess_clip(
            dets, protos, metas, proto_hw,
            partial(self.bbox_head.add_embeddings, x))

    def _clip_prototypes(self, x: Tuple[Tensor]) -> Tensor:
        """The CMH's clip prototypes (1, K, T, h, w); its per-frame part
        (the refined, summed FPN levels) is reused for the frames shared
        with the previous clip when that clip ran the CMH."""
        feat = self.stream.per_frame(
            'proto_in',
            lambda idx: (self._network(self.mask_head.frame_features,
                                       [lvl[idx] for lvl in x]), ),
            every_clip=False)[0]
        return self._network(self.mask_head.clip_prototypes, feat)

    def _postprocess_clip(
            self, dets: InstanceData, protos: Optional[Tensor],
            metas: List[dict], proto_hw: Tuple[int, int],
            embed: Callable) -> Tuple[InstanceData, Optional[Tensor]]:
        """Candidates -> detections through the registered post-processor
        (clip masks from the mask head, NMS, filters); ``embed`` adds the
        survivors' embeddings. Returns the detections and the clip's
        prototypes (K, T, h, w) (None without candidates)."""
        if 'batch_input_shape' in metas[0]:  # the boxes' image
            dets.set_metainfo(
                dict(batch_input_shape=metas[0]['batch_input_shape']))
        if len(dets) == 0:
            return self._empty_dets(dets, proto_hw), None
        dets = self.postprocessor(dets, partial(self._segment, protos, metas),
                                  metas, self.test_cfg)
        if len(dets) == 0 and 'mask_probs' not in dets:  # none segmented
            return self._empty_dets(dets, proto_hw), protos[0]
        # embeddings of the survivors only (sparse track tower)
        return embed(dets), protos[0]

    def _segment(self, protos: Tensor, metas: List[dict],
                 dets: InstanceData) -> InstanceData:
        """Clip masks ``mask_probs`` and ``masks`` of the candidates
        ``dets`` (the mask head's, with its one threshold)."""
        return self.mask_head.predict_by_feat(
            protos, batch_img_metas=metas, results_list=[dets])[0]

    def _empty_dets(self, dets: InstanceData,
                    proto_hw: Tuple[int, int]) -> InstanceData:
        """No detection: empty masks at the prototype resolution."""
        dets.mask_probs = dets.scores.new_zeros(0, self.clip_len, *proto_hw)
        dets.masks = dets.mask_probs.bool()
        dets.embeds = dets.scores.new_zeros(0, self.bbox_head.embed_dim)
        return dets

    def _frame_results(self, dets: InstanceData, t: int, meta: dict,
                       rescale: bool) -> InstanceData:
        """Frame t of the clip detections, masks RLE-encoded; with
        ``rescale`` boxes and masks at the original frame size."""
        res = InstanceData()
        res.instances_id = dets.instances_id.cpu()
        res.labels = dets.labels.cpu()
        res.scores = dets.scores.cpu()
        if 'cls_scores' in dets:  # (n, C), for track-level labels
            res.cls_scores = dets.cls_scores.cpu()
        bboxes = dets.frame_bboxes[:, t] if len(dets) else \
            dets.scores.new_zeros(0, 4)
        probs = dets.mask_probs[:, t] if len(dets) else \
            dets.scores.new_zeros(0, 1, 1)
        if rescale:
            sf = bboxes.new_tensor(meta.get('scale_factor', (1., 1.)))
            bboxes = bboxes / sf.repeat(2)
            masks = self.mask_head.masks_at_original_size(probs, meta)
        else:
            masks = probs > self.mask_head.mask_thr
        res.bboxes = bboxes.cpu()
        res.masks = encode_mask_results(masks.cpu().numpy())
        return res
