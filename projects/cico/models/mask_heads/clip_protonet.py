"""Clip-level mask head (CMH), paper Sec. 3.3 and Fig. 2(c), bottom.

P3, P4 and P5 are refined (2D conv + BN + ReLU), upsampled to P3 and summed;
the sum is folded into the clip cube and goes through 3D convs (switchable to
2D, Table 1d), a x2 upsample to stride 4, a 3x3 and a 1x1 conv to K channels:
the clip prototypes (N, K, T, H/4, W/4). A dynamic FCN (``mask_fcn``) turns
them and each instance's mask parameters into a clip mask, cropped by the
instance's (enlarged) circumscribed box (Eq. 5); ``loss_mask`` is Eq. 8.

Padding: the prototypes cover the padded batch (``batch_input_shape``), so
boxes are mapped with the prototype stride, not with ``img_shape`` as mmdet's
YOLACT does (MMDET_NOTES 2.2), and predictions drop the padding before they
are resized to the original frame.
"""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.dense_heads import YOLACTProtonet
from mmdet.models.utils import aligned_bilinear
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, OptConfigType
from ..layers import ClipConvTower, fold


def expand_boxes(boxes: Tensor, ratio: float, min_size: Tuple[float, float]
                 ) -> Tensor:
    """Scale (x1, y1, x2, y2) boxes about their centres by ``ratio``; each
    side at least ``min_size`` (w, h)."""
    ctr = (boxes[:, :2] + boxes[:, 2:]) / 2
    wh = (boxes[:, 2:] - boxes[:, :2]) * ratio
    wh = torch.max(wh, wh.new_tensor(min_size))
    return torch.cat([ctr - wh / 2, ctr + wh / 2], 1)


@MODELS.register_module()
class ClipProtoNet(YOLACTProtonet):
    """CMH of CiCo.

    Args:
        num_classes (int): foreground classes (for mmdet's interface).
        in_channels (int): FPN channels C.
        proto_channels (int): channels of the prototype convs (256; 192 for
            the Swin configs, REFERENCE_FACTS 2.1).
        num_protos (int): K output channels (Yolact 32, CondInst 8).
        clip_len (int): T.
        is_3d (bool): 3D convs in the prototype tower (paper: 3D).
        num_proto_convs (int): convs at stride 8 (3).
        num_refine_levels (int): FPN levels refined and summed (P3-P5).
        temporal_kernel_size (int): temporal extent of 3D kernels (3).
        norm_cfg (dict): norm of the refine/prototype convs (BN).
        mask_fcn (dict): clip mask generator (Eq. 5 or Eq. 6).
        loss_mask (dict): Eq. 8.
        train_crop_expand (float): crop box = circumscribed GT box scaled by
            this (REFERENCE_FACTS 4.1: 1.5).
        test_crop_expand (float): same with the predicted circumscribed box
            at test time (REFERENCE_FACTS 6.2: 1.1 Yolact, 1.5 CondInst).
        crop_min_size (float): minimal crop side, fraction of the frame (0.1).
        max_masks_to_train (int): at most this many positives per clip in
            the mask loss (random subset); -1 keeps all (reference).
        proto_relu (bool): ReLU on the K output prototypes (reference: yes,
            REFERENCE_FACTS 2.1). Trained from scratch with K=8 (CondInst),
            the ReLU can die: the SynthVIS CondInst config turns it off.
    """

    def __init__(self,
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
                 max_masks_to_train: int = -1,
                 proto_relu: bool = True,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg=dict(
                     type='Xavier',
                     distribution='uniform',
                     bias=0,
                     layer=['Conv2d', 'Conv3d'])) -> None:
        self.clip_len = clip_len
        self.is_3d = is_3d
        self.num_proto_convs = num_proto_convs
        self.num_refine_levels = num_refine_levels
        self.temporal_kernel_size = temporal_kernel_size
        self.norm_cfg = norm_cfg
        self.proto_relu = proto_relu
        mask_fcn = dict(mask_fcn)
        mask_fcn.setdefault('num_protos', num_protos)
        self.mask_fcn_cfg = mask_fcn
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            proto_channels=proto_channels,
            num_protos=num_protos,
            max_masks_to_train=max_masks_to_train,
            with_seg_branch=False,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        self.loss_mask = MODELS.build(loss_mask)
        self.train_crop_expand = train_crop_expand
        self.test_crop_expand = test_crop_expand
        self.crop_min_size = crop_min_size

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
        self.proto_conv = ConvModule(cp, cp, 3, padding=1,
                                     norm_cfg=self.norm_cfg)
        self.proto_out = nn.Conv2d(cp, self.num_protos, 1)
        self.mask_fcn = MODELS.build(self.mask_fcn_cfg)

    @property
    def num_params(self) -> int:
        """Mask parameters per instance the CPH has to predict."""
        return self.mask_fcn.num_params

    def forward(self, x: Tuple[Tensor]) -> Tensor:
        """FPN levels (N*T, C, h_l, w_l) -> prototypes (N, K, T, H/4, W/4)."""
        feat = self.refine[0](x[0])
        for lvl in range(1, self.num_refine_levels):
            feat = feat + aligned_bilinear(self.refine[lvl](x[lvl]), 2**lvl)
        feat = self.proto_tower(feat, self.clip_len)
        feat = F.interpolate(
            feat, scale_factor=2, mode='bilinear', align_corners=False)
        protos = self.proto_out(self.proto_conv(feat))
        if self.proto_relu:
            protos = F.relu(protos)
        return fold(protos, self.clip_len)

    # ------------------------------------------------------------ helpers
    def _crop_masks(self, boxes: Tensor, size: Tuple[int, int]) -> Tensor:
        """(n, 4) boxes in prototype pixels -> (n, h, w) bool crop regions,
        with YOLACT's crop geometry (1 px padding)."""
        h, w = size
        rel = boxes / boxes.new_tensor([w, h, w, h])
        ones = boxes.new_ones(h, w, boxes.shape[0])
        return self.crop_single(ones, rel, padding=1).permute(2, 0, 1) > 0

    def _stride(self, protos: Tensor, meta: dict) -> Tuple[float, float]:
        bh, bw = meta['batch_input_shape'][:2]
        return bw / protos.shape[-1], bh / protos.shape[-2]

    def clip_mask_logits(self, protos: Tensor, params: Tensor, boxes: Tensor,
                         crop_expand: float) -> Tuple[Tensor, Tensor]:
        """Mask logits and crop regions for instances of one clip.

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
        return logits, self._crop_masks(crop_boxes, (h, w))

    # ------------------------------------------------------------- train
    def loss_by_feat(self, protos: Tensor, positive_infos: InstanceData,
                     clip_gts: InstanceList, frame_metas: List[dict],
                     **kwargs) -> dict:
        """Eq. 8 over the positives of the batch.

        Args:
            protos (Tensor): (N, K, T, h, w).
            positive_infos (InstanceData): from ``CiCoClipHead``:
                ``clip_inds``, ``frame_inds``, ``gt_inds``, ``coeffs``.
            clip_gts (list[InstanceData]): clip ground truth with ``masks``
                (n, T, H, W) at the padded input size and ``bboxes`` (n, 4).
            frame_metas (list[dict]): N*T frame metainfos.
        """
        t = self.clip_len
        h, w = protos.shape[-2:]
        sx, sy = self._stride(protos, frame_metas[0])
        scale = protos.new_tensor([sx, sy, sx, sy])
        logits, targets, crops, areas, frames, clips = [], [], [], [], [], []
        for c in range(len(clip_gts)):
            sel = (positive_infos.clip_inds == c).nonzero()[:, 0]
            if sel.numel() == 0:
                continue
            if 0 < self.max_masks_to_train < sel.numel():
                sel = sel[torch.randperm(
                    sel.numel(), device=sel.device)[:self.max_masks_to_train]]
            gt = clip_gts[c]
            gt_inds = positive_infos.gt_inds[sel]
            gt_masks = F.interpolate(
                gt.masks.flatten(0, 1)[:, None].float(), (h, w),
                mode='bilinear',
                align_corners=False)[:, 0].view(-1, t, h, w) > 0.5
            boxes = gt.bboxes[gt_inds] / scale
            lg, crop = self.clip_mask_logits(protos[c],
                                             positive_infos.coeffs[sel],
                                             boxes, self.train_crop_expand)
            logits.append(lg)
            crops.append(crop)
            targets.append(gt_masks[gt_inds])
            areas.append((boxes[:, 2] - boxes[:, 0]).clamp(min=1) *
                         (boxes[:, 3] - boxes[:, 1]).clamp(min=1))
            frames.append(positive_infos.frame_inds[sel])
            clips.append(positive_infos.clip_inds[sel])
        if not logits:
            return dict(loss_mask=protos.sum() * 0.)
        loss = self.loss_mask(
            torch.cat(logits), torch.cat(targets), torch.cat(crops),
            torch.cat(areas), torch.cat(frames), torch.cat(clips))
        return dict(loss_mask=loss)

    # -------------------------------------------------------------- test
    def predict_by_feat(self,
                        protos: Tensor,
                        results_list: InstanceList,
                        frame_metas: List[dict],
                        crop_expand: Optional[float] = None,
                        **kwargs) -> InstanceList:
        """Adds ``mask_probs`` (k, T, h, w), the cropped sigmoid masks at the
        prototype resolution (padding included), to each clip's candidates
        (``coeffs`` and circumscribed ``bboxes`` in input pixels)."""
        crop_expand = crop_expand or self.test_crop_expand
        t = self.clip_len
        for c, res in enumerate(results_list):
            sx, sy = self._stride(protos, frame_metas[c * t])
            boxes = res.bboxes / res.bboxes.new_tensor([sx, sy, sx, sy])
            logits, crop = self.clip_mask_logits(protos[c], res.coeffs, boxes,
                                                 crop_expand)
            res.mask_probs = logits.sigmoid() * crop[:, None]
        return results_list
