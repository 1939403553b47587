"""Clip-level mask head (CMH), paper Sec. 3.3 and Fig. 2(c), bottom.

P3, P4 and P5 are refined (2D conv + BN + ReLU), upsampled to P3 and summed;
the sum is folded into the clip cube and goes through 3D convs (switchable to
2D, Table 1d), a x2 upsample to stride 4, a 3x3 and a 1x1 conv to K channels:
the clip prototypes (N, K, T, H/4, W/4). A dynamic FCN (``mask_fcn``) turns
them and each instance's mask parameters into a clip mask, cropped by the
instance's (enlarged) circumscribed box (Eq. 5); ``loss_mask`` is Eq. 8.

The head keeps mmdet's ``BaseMaskHead`` contract (``loss`` with the CPH's
positives, ``predict`` with its candidates) on the N*T frame images of N
clips. Padding: the prototypes cover the padded batch
(``batch_input_shape``), so boxes are mapped with the prototype stride, not
with ``img_shape`` as mmdet's YOLACT does, and predictions drop the padding
before they are resized to the original frame
(``docs/mmdet_traps.md#heads-and-assigner``).
"""
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.models.dense_heads.base_mask_head import BaseMaskHead
from mmdet.models.utils import aligned_bilinear
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, OptInstanceList
from torch import Tensor

from ..layers import ClipConvTower, fold
from ..utils import batch_clip_instances, box_crop_regions, expand_boxes


@MODELS.register_module()
class ClipProtoNet(BaseMaskHead):
    """CMH of CiCo.

    Args:
        num_classes (int): foreground classes (kept for mmdet's mask-head
            config interface; the CMH is class-agnostic).
        in_channels (int): FPN channels C.
        proto_channels (int): channels of the prototype convs (256; 192 for
            the Swin configs,
            ``docs/reference_implementation.md#architecture``).
        num_protos (int): K output channels (Yolact 32, CondInst 8).
        clip_len (int): T; set by the detector.
        is_3d (bool): 3D convs in the prototype tower (paper: 3D).
        num_proto_convs (int): convs at stride 8 (3).
        num_refine_levels (int): FPN levels refined and summed (P3-P5).
        temporal_kernel_size (int): temporal extent of 3D kernels (3).
        norm_cfg (dict): norm of the refine/prototype convs (BN).
        mask_fcn (dict): clip mask generator (Eq. 5 or Eq. 6); its
            ``num_params`` is what the CPH predicts per anchor.
        loss_mask (dict): Eq. 8.
        train_crop_expand (float): crop box = circumscribed GT box scaled by
            this (1.5, ``docs/reference_implementation.md#losses``).
        test_crop_expand (float): same with the predicted circumscribed box
            at test time (1.1 Yolact, 1.5 CondInst;
            ``docs/reference_implementation.md#post-processing``).
        crop_min_size (float): minimal crop side, fraction of the frame (0.1).
        box_rounding (str): ``'none'`` keeps the crop bounds and the mask
            loss's box area in float prototype pixels; ``'truncate'``
            clips them to the map and truncates them to whole pixels as the
            authors do, in training and at test time
            (``docs/training_recipe.md#mask-loss``).
        max_masks_to_train (int): at most this many positives per clip in
            the mask loss (random subset); -1 keeps all (reference).
        proto_upsample (dict): ``F.interpolate`` arguments of the x2
            upsampling to stride 4 (default bilinear, ``align_corners=False``;
            the authors' model used ``align_corners=True``,
            ``docs/reference_implementation.md#architecture``).
        proto_relu (bool): ReLU on the K output prototypes (reference: yes).
            Trained from scratch with K=8 (CondInst), the ReLU can die: the
            SynthVIS CondInst config turns it off
            (``docs/departures.md#condinst``).
        mask_thr (float): the one threshold of the head's masks at test
            time (0.5): the clip NMS, the tracker and the output all use
            the ``masks`` the head gives.
    """

    PROTO_UPSAMPLE = 2  # P3 (stride 8) -> the prototypes (stride 4)

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 256,
        proto_channels: int = 256,
        num_protos: int = 32,
        clip_len: int = 3,
        is_3d: bool = True,
        num_proto_convs: int = 3,
        num_refine_levels: int = 3,
        temporal_kernel_size: int = 3,
        norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
        mask_fcn: ConfigType = dict(type='ClipLincombMask'),
        loss_mask: ConfigType = dict(type='ClipMaskLoss'),
        train_crop_expand: float = 1.5,
        test_crop_expand: float = 1.1,
        crop_min_size: float = 0.1,
        box_rounding: str = 'none',
        max_masks_to_train: int = -1,
        proto_upsample: ConfigType = dict(
            mode='bilinear', align_corners=False),
        proto_relu: bool = True,
        mask_thr: float = 0.5,
        init_cfg=dict(
            type='Xavier',
            distribution='uniform',
            bias=0,
            layer=['Conv2d', 'Conv3d'])
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.proto_channels = proto_channels
        self.num_protos = num_protos
        self.clip_len = clip_len
        self.is_3d = is_3d
        self.num_proto_convs = num_proto_convs
        self.num_refine_levels = num_refine_levels
        self.temporal_kernel_size = temporal_kernel_size
        self.norm_cfg = norm_cfg
        self.proto_relu = proto_relu
        self.proto_upsample = dict(proto_upsample)
        self.train_crop_expand = train_crop_expand
        self.test_crop_expand = test_crop_expand
        self.crop_min_size = crop_min_size
        if box_rounding not in ('none', 'truncate'):
            raise ValueError("box_rounding must be 'none' or 'truncate', "
                             f'got {box_rounding!r}')
        self.box_rounding = box_rounding
        self.max_masks_to_train = max_masks_to_train
        self.mask_thr = mask_thr
        self._init_layers()
        mask_fcn = dict(mask_fcn)
        mask_fcn.setdefault('num_protos', num_protos)
        self.mask_fcn = MODELS.build(mask_fcn)
        self.loss_mask = MODELS.build(loss_mask)

    def _init_layers(self) -> None:
        c, cp = self.in_channels, self.proto_channels
        self.refine = nn.ModuleList([
            ConvModule(c, c, 3, padding=1, norm_cfg=self.norm_cfg)
            for _ in range(self.num_refine_levels)
        ])
        self.proto_tower = ClipConvTower(
            c,
            cp,
            self.num_proto_convs,
            is_3d=self.is_3d and self.clip_len > 1,
            temporal_kernel_size=self.temporal_kernel_size,
            norm_cfg=self.norm_cfg)
        self.proto_conv = ConvModule(
            cp, cp, 3, padding=1, norm_cfg=self.norm_cfg)
        self.proto_out = nn.Conv2d(cp, self.num_protos, 1)

    @property
    def num_params(self) -> int:
        """Mask parameters per instance the CPH has to predict."""
        return self.mask_fcn.num_params

    def forward(self,
                x: Tuple[Tensor],
                results: OptInstanceList = None) -> Tuple[Tensor]:
        """FPN levels (N*T, C, h_l, w_l) -> ``(protos,)``, the clip
        prototypes (N, K, T, H/4, W/4). ``results`` (positives or
        candidates, passed by ``BaseMaskHead.loss/predict``) do not change
        the prototypes."""
        return (self.clip_prototypes(self.frame_features(x)), )

    def frame_features(self, x: Sequence[Tensor]) -> Tensor:
        """The per-frame part: P3-P5 refined, upsampled to P3 and summed,
        (M, C, h_3, w_3) for M frames. It depends on each frame alone, so
        the streaming test reuses it for the frames shared by consecutive
        clips."""
        feat = self.refine[0](x[0])
        for lvl in range(1, self.num_refine_levels):
            feat = feat + aligned_bilinear(self.refine[lvl](x[lvl]), 2**lvl)
        return feat

    def clip_prototypes(self, feat: Tensor) -> Tensor:
        """The clip part: :meth:`frame_features` of N clips' frames
        (N*T, C, h_3, w_3) -> the clip prototypes (N, K, T, H/4, W/4)."""
        feat = self.proto_tower(feat, self.clip_len)
        feat = F.interpolate(
            feat, scale_factor=self.PROTO_UPSAMPLE, **self.proto_upsample)
        protos = self.proto_out(self.proto_conv(feat))
        if self.proto_relu:
            protos = F.relu(protos)
        return fold(protos, self.clip_len)

    # ------------------------------------------------------------ helpers
    def proto_size(self, x: Sequence[Tensor]) -> Tuple[int, int]:
        """(h, w) of the prototypes of the FPN levels ``x`` (P3 upsampled
        x :attr:`PROTO_UPSAMPLE`)."""
        return tuple(s * self.PROTO_UPSAMPLE for s in x[0].shape[-2:])

    @staticmethod
    def proto_stride(protos: Tensor, meta: dict) -> Tensor:
        """(4,) pixels of the padded input per prototype pixel (x, y, x,
        y)."""
        bh, bw = meta['batch_input_shape'][:2]
        sx, sy = bw / protos.shape[-1], bh / protos.shape[-2]
        return protos.new_tensor([sx, sy, sx, sy])

    def clip_mask_logits(self, protos: Tensor, params: Tensor, boxes: Tensor,
                         crop_expand: float) -> Tuple[Tensor, Tensor]:
        """Mask logits and crop regions for instances of one clip (Eq. 5/6).

        Args:
            protos (Tensor): (K, T, h, w).
            params (Tensor): (n, M) mask parameters.
            boxes (Tensor): (n, 4) circumscribed boxes in prototype pixels.
            crop_expand (float): crop = boxes scaled by this.

        Returns:
            tuple: logits (n, T, h, w) and crop (n, h, w) bool.
        """
        h, w = protos.shape[-2:]
        logits = self.mask_fcn(protos, params, boxes)
        crop_boxes = expand_boxes(
            boxes, crop_expand,
            (self.crop_min_size * w, self.crop_min_size * h))
        return logits, box_crop_regions(
            crop_boxes, (h, w), truncate=self.box_rounding == 'truncate')

    def box_area(self, boxes: Tensor, size: Tuple[int, int]) -> Tensor:
        """(n,) areas of (n, 4) boxes in prototype pixels, each side at
        least 1: float sides, or (``box_rounding='truncate'``) the sides
        between the truncated corners of the boxes clipped to the map."""
        if self.box_rounding == 'truncate':
            h, w = size
            lim = boxes.new_tensor([w, h, w, h])
            boxes = torch.min(boxes.clamp(min=0), lim).trunc()
        return (boxes[:, 2] - boxes[:, 0]).clamp(min=1) * \
            (boxes[:, 3] - boxes[:, 1]).clamp(min=1)

    # ------------------------------------------------------------- train
    def loss_by_feat(self,
                     protos: Tensor,
                     batch_gt_instances: InstanceList,
                     batch_img_metas: List[dict],
                     positive_infos: InstanceList,
                     batch_gt_instances_ignore: OptInstanceList = None,
                     **kwargs) -> dict:
        """Eq. 8 over the positives of N clips.

        Args:
            protos (Tensor): (N, K, T, h, w).
            batch_gt_instances (list[InstanceData]): N*T frames'
                ``gt_instances`` with ``masks`` padded to
                ``batch_input_shape`` (``BaseMaskHead.loss`` pads them),
                ``bboxes``, ``labels``, ``instances_ids``.
            batch_img_metas (list[dict]): N*T frame metainfos.
            positive_infos (list[InstanceData]): per clip, from the CPH:
                ``frame_inds``, ``gt_inds``, ``params``.
        """
        clip_gts = batch_clip_instances(batch_gt_instances, batch_img_metas,
                                        self.clip_len)
        return self.clip_loss(protos, batch_img_metas, clip_gts,
                              positive_infos)

    def loss_clips(self, x: Sequence[Tensor], batch_img_metas: List[dict],
                   clip_gts: InstanceList,
                   positive_infos: InstanceList) -> dict:
        """Eq. 8 of N clips from their N*T frames' FPN levels ``x``, their
        clip ground truth (masks padded to the batch input; built once per
        step by the detector) and the CPH's positives."""
        return self.clip_loss(
            self(x)[0], batch_img_metas, clip_gts, positive_infos)

    def clip_loss(self, protos: Tensor, batch_img_metas: List[dict],
                  clip_gts: InstanceList,
                  positive_infos: InstanceList) -> dict:
        """Eq. 8 from the prototypes (N, K, T, h, w), the clip ground truth
        and the positives (:meth:`loss_by_feat`)."""
        t = self.clip_len
        if len(positive_infos) != len(clip_gts):
            raise ValueError(f'{len(positive_infos)} positive infos for '
                             f'{len(clip_gts)} clips')
        h, w = protos.shape[-2:]
        scale = self.proto_stride(protos, batch_img_metas[0])
        parts = []
        for c, (pos, gt) in enumerate(zip(positive_infos, clip_gts)):
            if len(pos) == 0:
                continue
            if 0 < self.max_masks_to_train < len(pos):
                pos = pos[torch.randperm(
                    len(pos),
                    device=pos.gt_inds.device)[:self.max_masks_to_train]]
            gt_masks = F.interpolate(
                gt.masks.flatten(0, 1)[:, None].float(), (h, w),
                mode='bilinear',
                align_corners=False)[:, 0].view(-1, t, h, w) > 0.5
            boxes = gt.bboxes[pos.gt_inds] / scale
            logits, crop = self.clip_mask_logits(protos[c], pos.params, boxes,
                                                 self.train_crop_expand)
            area = self.box_area(boxes, (h, w))
            parts.append(
                (logits, gt_masks[pos.gt_inds], crop, area, pos.frame_inds,
                 torch.full_like(pos.frame_inds, c)))
        if not parts:
            return dict(loss_mask=protos.sum() * 0.)
        loss = self.loss_mask(
            *[torch.cat(p) for p in zip(*parts)], num_clips=len(clip_gts))
        return dict(loss_mask=loss)

    # -------------------------------------------------------------- test
    def predict_by_feat(self,
                        protos: Tensor,
                        batch_img_metas: List[dict],
                        results_list: InstanceList,
                        rescale: bool = False,
                        **kwargs) -> InstanceList:
        """Clip masks of each clip's candidates.

        Args:
            protos (Tensor): (N, K, T, h, w).
            batch_img_metas (list[dict]): N*T frame metainfos.
            results_list (list[InstanceData]): per clip, ``params`` (k, M)
                and circumscribed ``bboxes`` (k, 4) in input pixels.
            rescale (bool): ``masks`` at the original frame size
                (k, T, H, W) instead of the prototype resolution.

        Returns:
            list[InstanceData]: ``results_list`` with ``mask_probs``
            (k, T, h, w), the cropped sigmoid masks at the prototype
            resolution (padding included), and ``masks``, those above
            :attr:`mask_thr`.
        """
        t = self.clip_len
        for c, res in enumerate(results_list):
            meta = batch_img_metas[c * t]
            res.mask_probs, res.masks = self.masks_of_params(
                protos[c], meta, res.params, res.bboxes, self.test_crop_expand)
            if rescale:
                res.masks = torch.stack([
                    self.masks_at_original_size(res.mask_probs[:, k], meta)
                    for k in range(t)
                ], 1) if len(res) else res.mask_probs.new_zeros(
                    0, t, *meta['ori_shape'][:2]).bool()
        return results_list

    def masks_of_params(self, protos: Tensor, meta: dict, params: Tensor,
                        bboxes: Tensor,
                        crop_expand: float) -> Tuple[Tensor, Tensor]:
        """Mask probabilities and masks (k, T, h, w) of mask ``params``
        (k, M) with circumscribed ``bboxes`` (k, 4, input pixels) on one
        clip's prototypes ``protos`` (K, T, h, w), cropped by the boxes
        scaled by ``crop_expand`` (the candidates', or a tracker's stored
        tracks')."""
        boxes = bboxes / self.proto_stride(protos, meta)
        logits, crop = self.clip_mask_logits(protos, params, boxes,
                                             crop_expand)
        probs = logits.sigmoid() * crop[:, None]
        return probs, probs > self.mask_thr

    def masks_at_original_size(self, mask_probs: Tensor, meta: dict) -> Tensor:
        """(k, h, w) mask probabilities of one frame at the prototype
        resolution of the padded input -> (k, H, W) bool masks above
        :attr:`mask_thr` at the frame's ``ori_shape`` (padding dropped,
        bilinear resize)."""
        ori_h, ori_w = meta['ori_shape'][:2]
        if len(mask_probs) == 0:
            return mask_probs.new_zeros(0, ori_h, ori_w).bool()
        img_h, img_w = meta['img_shape'][:2]
        pad_h, pad_w = meta.get('batch_input_shape', meta['img_shape'])[:2]
        h, w = mask_probs.shape[-2:]
        probs = mask_probs[:, :int(np.ceil(img_h * h / pad_h)
                                   ), :int(np.ceil(img_w * w / pad_w))]
        probs = F.interpolate(
            probs[None], (ori_h, ori_w), mode='bilinear',
            align_corners=False)[0]
        return probs > self.mask_thr
