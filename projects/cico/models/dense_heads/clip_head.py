"""Clip-level prediction heads (CPH), paper Sec. 3.3 and Fig. 2(c).

Shared over FPN levels P3-P7. Three towers, each 2D (per frame) or 3D (over
the clip cube) by its own switch (Table 1b): the class tower feeds the class
scores; the box tower feeds 4T box deltas, the clip's mask parameters and a
box-quality logit; the track tower feeds an L2-normalised embedding. The
final prediction layers are 2D 3x3 convs, so every frame position of the
clip has its own anchors, each regressing the boxes of all T frames and
predicting one mask-parameter vector and one embedding for the whole clip
(``docs/reference_implementation.md#architecture``).

The head keeps mmdet's ``AnchorHead`` contract: its inputs are the N*T frame
images of N clips (frames of a clip adjacent) with one ``DetDataSample`` per
frame, so ``loss``, ``predict`` and ``loss_and_predict`` work through mmdet's
own call path. Results are per clip (one ``InstanceData`` per clip, boxes of
all T frames). The streaming test path, which evaluates the box and track
towers only at the candidates, lives in :mod:`.clip_predictor`.
"""
import logging
from typing import Any, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.models.dense_heads import AnchorHead
from mmdet.models.losses.iou_loss import diou_loss
from mmdet.models.utils import multi_apply
from mmdet.registry import MODELS
from mmdet.utils import (ConfigType, InstanceList, OptConfigType,
                         OptInstanceList, OptMultiConfig)
from mmengine.logging import print_log
from mmengine.structures import InstanceData
from torch import Tensor

from ..layers import ClipConvTower
from ..utils import batch_clip_instances
from . import clip_predictor
from .clip_predictor import (decode_candidates, flatten_anchor_maps,
                             select_candidates)

# Defaults of the configs: anchors of side 3 x stride with ratios 1, 1:2, 2:1
# on P3-P7 and the SSD box coder (docs/reference_implementation.md#anchors);
# the sigmoid focal loss (weight 5), SmoothL1 + DIoU on boxes, BCE quality and
# Eq. 9 (docs/reference_implementation.md#losses).
ANCHOR_GENERATOR = dict(
    type='AnchorGenerator',
    octave_base_scale=3,
    scales_per_octave=1,
    ratios=[1.0, 2.0, 0.5],
    strides=[8, 16, 32, 64, 128],
    center_offset=0.5)
BBOX_CODER = dict(
    type='DeltaXYWHBBoxCoder',
    target_means=[0., 0., 0., 0.],
    target_stds=[0.1, 0.1, 0.2, 0.2])
LOSS_CLS = dict(
    type='FocalLoss', use_sigmoid=True, gamma=2.0, alpha=0.25, loss_weight=5.0)
LOSS_BBOX = dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0)
LOSS_DIOU = dict(type='DIoULoss', loss_weight=1.0)
LOSS_QUALITY = dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0)
LOSS_TRACK = dict(type='TrackEmbedLoss', loss_weight=5.0)
XAVIER_INIT = dict(
    type='Xavier', distribution='uniform', bias=0, layer=['Conv2d', 'Conv3d'])


@MODELS.register_module()
class CiCoClipHead(AnchorHead):
    """CPH of CiCo.

    ``ANCHOR_LAYERS`` names the prediction layers whose output channels are
    anchor-major (anchor a's block of channels, then anchor a + 1's): the
    checkpoint converter and the inflation of COCO models, which reorder or
    tile those channels, read it from here.

    Args:
        num_classes (int): foreground classes.
        in_channels (int): FPN channels.
        clip_len (int): T, frames per clip (4T box outputs per anchor); set
            by the detector.
        feat_channels (int): tower channels.
        stacked_convs (int): conv layers per tower (paper: 4).
        cls_tower_3d / box_tower_3d / track_tower_3d (bool): 3D convs in
            that tower (paper defaults: class 2D, box 3D, track 3D).
        temporal_kernel_size (int): temporal extent of 3D kernels (3).
        tower_norm_cfg (dict, optional): norm in the towers (reference: none).
        num_params (int): mask parameters per anchor; set by the detector
            from its mask head (Yolact: K coefficients; CondInst: weights
            and biases of the dynamic FCN).
        embed_dim (int): tracking embedding size (64).
        param_act (str, optional): activation of the mask parameters:
            'tanh' (reference, Yolact coefficients and CondInst filters) or
            None (linear, as the original CondInst controller).
        with_quality (bool): predict the box-quality (DIoU) score used for
            rescoring (``docs/reference_implementation.md#losses``).
        regress_clip_boxes (bool): each anchor regresses the boxes of all T
            frames (4T deltas, CiCo). ``False`` regresses only the anchor's
            own frame (4 deltas), the frame-level head of Table 1a; its box
            is then used for every frame of the clip.
        loss_cls (dict): sigmoid focal loss, or a softmax cross entropy
            (``use_sigmoid=False``), which is trained with hard negative
            mining: ``train_cfg.neg_pos_ratio`` negatives per positive (OVIS
            configs).
        loss_bbox (dict): SmoothL1 on the 4T deltas.
        loss_diou (dict, optional): 1 - DIoU on decoded boxes.
        loss_quality (dict, optional): BCE of the quality logit.
        loss_track (dict, optional): Eq. 9.
        prediction_init (str): ``'normal'``: the prediction layers start
            from N(0, 0.01) with zero bias (mmdet's RetinaNet / FCOS);
            ``'xavier'``: they keep ``init_cfg``'s Xavier-uniform weights
            and zero bias, as in the authors' code. The class bias is the
            focal-loss prior -log((1 - p) / p) (p = 0.01: -log 99) either
            way.
    """

    ANCHOR_LAYERS = ('conv_cls', 'conv_reg', 'conv_coeff', 'conv_quality',
                     'conv_track')
    #: what :meth:`forward_single` returns, in order (``forward``: a list
    #: per FPN level of each); the exported clip network names its outputs
    #: after these
    FORWARD_OUTPUTS = ('cls_score', 'bbox_pred', 'param_pred', 'quality',
                       'embed')

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 clip_len: int = 3,
                 feat_channels: int = 256,
                 stacked_convs: int = 4,
                 cls_tower_3d: bool = False,
                 box_tower_3d: bool = True,
                 track_tower_3d: bool = True,
                 temporal_kernel_size: int = 3,
                 tower_norm_cfg: OptConfigType = None,
                 num_params: int = 32,
                 embed_dim: int = 64,
                 param_act: Optional[str] = 'tanh',
                 with_quality: bool = True,
                 regress_clip_boxes: bool = True,
                 anchor_generator: ConfigType = ANCHOR_GENERATOR,
                 bbox_coder: ConfigType = BBOX_CODER,
                 loss_cls: ConfigType = LOSS_CLS,
                 loss_bbox: ConfigType = LOSS_BBOX,
                 loss_diou: OptConfigType = LOSS_DIOU,
                 loss_quality: OptConfigType = LOSS_QUALITY,
                 loss_track: OptConfigType = LOSS_TRACK,
                 prediction_init: str = 'normal',
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = XAVIER_INIT) -> None:
        _check_args(clip_len, param_act, train_cfg, prediction_init)
        self.clip_len = clip_len
        self.stacked_convs = stacked_convs
        self.tower_3d = dict(
            cls=cls_tower_3d, box=box_tower_3d, track=track_tower_3d)
        self.temporal_kernel_size = temporal_kernel_size
        self.tower_norm_cfg = tower_norm_cfg
        self.num_params = num_params
        self.embed_dim = embed_dim
        self.param_act = param_act
        self.with_quality = with_quality
        self.regress_clip_boxes = regress_clip_boxes
        self.prediction_init = prediction_init
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            feat_channels=feat_channels,
            anchor_generator=anchor_generator,
            bbox_coder=bbox_coder,
            loss_cls=loss_cls,
            loss_bbox=loss_bbox,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            init_cfg=init_cfg)
        # softmax CE is trained with hard negative mining, focal without
        self.use_ohem = not self.use_sigmoid_cls
        self.loss_diou = MODELS.build(loss_diou) if loss_diou else None
        self.loss_quality = MODELS.build(
            loss_quality) if loss_quality and with_quality else None
        self.loss_track = MODELS.build(loss_track) if loss_track else None

    @property
    def num_box_frames(self) -> int:
        """Frames whose box each anchor regresses (T, or 1)."""
        return self.clip_len if self.regress_clip_boxes else 1

    def _init_layers(self) -> None:
        """Towers and the 2D prediction layers."""

        def tower(name: str) -> ClipConvTower:
            return ClipConvTower(
                self.in_channels,
                self.feat_channels,
                self.stacked_convs,
                is_3d=self.tower_3d[name] and self.clip_len > 1,
                temporal_kernel_size=self.temporal_kernel_size,
                norm_cfg=self.tower_norm_cfg)

        a = self.num_base_priors
        chn = self.feat_channels if self.stacked_convs else self.in_channels
        self.cls_tower = tower('cls')
        self.box_tower = tower('box')
        self.track_tower = tower('track')
        self.conv_cls = nn.Conv2d(chn, a * self.cls_out_channels, 3, padding=1)
        self.conv_reg = nn.Conv2d(
            chn, a * 4 * self.num_box_frames, 3, padding=1)
        self.conv_coeff = nn.Conv2d(chn, a * self.num_params, 3, padding=1)
        self.conv_quality = nn.Conv2d(
            chn, a, 3, padding=1) if self.with_quality else None
        self.conv_track = nn.Conv2d(chn, a * self.embed_dim, 3, padding=1)

    def init_weights(self) -> None:
        """Towers by ``init_cfg`` (Xavier); prediction layers N(0, 0.01)
        with zero bias, as mmdet's RetinaNet/FCOS heads, so training from
        scratch starts from near-zero deltas
        (``docs/departures.md#neck-and-initialisation``), or Xavier with
        ``prediction_init='xavier'``; with the focal loss the class bias
        starts at the prior p = 0.01."""
        super().init_weights()
        for conv in (self.conv_cls, self.conv_reg, self.conv_coeff,
                     self.conv_quality, self.conv_track):
            if conv is not None and self.prediction_init == 'normal':
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.constant_(conv.bias, 0.)
        if self.use_sigmoid_cls:
            prior = self.train_cfg.get('cls_prior_prob', 0.01) \
                if self.train_cfg else 0.01
            nn.init.constant_(
                self.conv_cls.bias,
                -float(torch.log(torch.tensor((1 - prior) / prior))))

    def _load_from_state_dict(self, state_dict: dict, prefix: str,
                              local_metadata: dict, strict: bool,
                              missing_keys: List[str],
                              unexpected_keys: List[str],
                              error_msgs: List[str]) -> None:
        """Fine-tuning on another class count: a checkpoint ``conv_cls``
        whose shape differs from this head's is dropped (the freshly
        initialised layer is kept) with one log line, instead of
        size-mismatch / missing-key warnings; everything else loads."""
        key = f'{prefix}conv_cls.weight'
        ours = tuple(self.conv_cls.weight.shape)
        if key in state_dict and tuple(state_dict[key].shape) != ours:
            theirs = tuple(state_dict.pop(key).shape)
            dropped = [key, f'{prefix}conv_cls.bias']
            state_dict.pop(dropped[1], None)
            print_log(
                f'{prefix}conv_cls re-initialised: checkpoint weight shape '
                f'{theirs} != model shape {ours} because the class count '
                f'differs (checkpoint {theirs[0] // self.num_base_priors} '
                f'class outputs per anchor, model {self.cls_out_channels}); '
                'all other weights load', 'current', logging.WARNING)
            self._forget_missing(dropped)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _forget_missing(self, keys: List[str]) -> None:
        """Keep ``keys`` out of the loader's missing keys: ``conv_cls`` loads
        after this head (it is a child module), so a post hook, which runs
        once the children are loaded, removes them."""
        self._dropped_cls_keys = list(keys)
        if getattr(self, '_forget_hook', None) is not None:
            return
        self._forget_hook = self.register_load_state_dict_post_hook(
            _forget_dropped_keys)

    # ----------------------------------------------------------- forward
    def forward_single(self, x: Tensor) -> Tuple[Tensor, ...]:
        """One FPN level, ``x``: (N*T, C, h, w), frames of a clip adjacent.

        Returns:
            tuple: cls (N*T, A*C', h, w), reg (N*T, A*4T, h, w), mask
            parameters (N*T, A*M, h, w), quality logits (N*T, A, h, w) or
            None, embeddings (N*T, A*E, h, w), L2-normalised per anchor.
        """
        t = self.clip_len
        box_feat = self.box_tower(x, t)
        cls_score = self.conv_cls(self.cls_tower(x, t))
        bbox_pred = self.conv_reg(box_feat)
        param_pred = self.param_activation(self.conv_coeff(box_feat))
        quality = self.conv_quality(box_feat) if self.with_quality else None
        embed = self.conv_track(self.track_tower(x, t))
        nt, _, h, w = embed.shape
        embed = F.normalize(
            embed.view(nt, self.num_base_priors, self.embed_dim, h, w),
            dim=2).view(nt, -1, h, w)
        return cls_score, bbox_pred, param_pred, quality, embed

    def param_activation(self, params: Tensor) -> Tensor:
        """The activation of the raw mask parameters (``param_act``)."""
        return params.tanh() if self.param_act == 'tanh' else params

    # ------------------------------------------------------------- train
    def loss_by_feat(
            self,
            cls_scores: List[Tensor],
            bbox_preds: List[Tensor],
            param_preds: List[Tensor],
            quality_preds: List[Optional[Tensor]],
            embed_preds: List[Tensor],
            batch_gt_instances: InstanceList,
            batch_img_metas: List[dict],
            batch_gt_instances_ignore: OptInstanceList = None) -> dict:
        """Losses of N clips from the per-level outputs of their N*T frames.

        Args:
            cls_scores ... embed_preds (list[Tensor]): :meth:`forward`.
            batch_gt_instances (list[InstanceData]): N*T frames'
                ``gt_instances`` (``bboxes``, ``labels``, ``instances_ids``).
            batch_img_metas (list[dict]): N*T frame metainfos.
            batch_gt_instances_ignore: unused (no ignore regions in VIS).

        Returns:
            dict: ``loss_cls``, ``loss_bbox`` and, when configured,
            ``loss_diou``, ``loss_quality``, ``loss_track``.
        """
        clip_gts = batch_clip_instances(
            batch_gt_instances,
            batch_img_metas,
            self.clip_len,
            with_masks=False)
        return self.clip_losses(cls_scores, bbox_preds, param_preds,
                                quality_preds, embed_preds, batch_img_metas,
                                clip_gts)[0]

    def loss_clips(self, x: Sequence[Tensor], batch_img_metas: List[dict],
                   clip_gts: InstanceList) -> Tuple[dict, InstanceList]:
        """Losses of N clips from their N*T frames' FPN levels ``x`` and
        their clip ground truth (built once per step by the detector) and
        the positives the mask head trains on (:meth:`clip_losses`)."""
        return self.clip_losses(*self(x), batch_img_metas, clip_gts)

    def clip_losses(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                    param_preds: List[Tensor],
                    quality_preds: List[Optional[Tensor]],
                    embed_preds: List[Tensor], batch_img_metas: List[dict],
                    clip_gts: InstanceList) -> Tuple[dict, InstanceList]:
        """The losses (:meth:`loss_by_feat`) and, per clip, its positives:
        ``frame_inds`` (frame of the anchor in the clip), ``gt_inds`` (row
        in the clip's ground truth) and ``params`` (P, M), the mask
        parameters the mask head turns into clip masks."""
        targets = self.get_clip_targets(cls_scores, batch_img_metas, clip_gts)
        scores = flatten_anchor_maps(cls_scores, self.cls_out_channels)
        deltas = flatten_anchor_maps(bbox_preds, 4 * self.num_box_frames)
        if not torch.isfinite(scores).all() or not torch.isfinite(
                deltas).all():
            raise FloatingPointError(
                'CPH predictions became NaN/Inf: lower the learning rate or '
                'check the input normalisation')
        pos = targets['pos']
        losses = dict(loss_cls=self.loss_cls_by_targets(scores, targets))
        pos_deltas = deltas[pos.img_inds, pos.anchor_inds]
        pos_quality = flatten_anchor_maps(
            quality_preds, 1)[pos.img_inds, pos.anchor_inds, 0] \
            if self.with_quality else None
        meta = batch_img_metas[0]
        losses.update(
            self.loss_boxes(pos_deltas, pos_quality, pos, clip_gts,
                            targets['anchors'][pos.img_inds, pos.anchor_inds],
                            meta.get('batch_input_shape', meta['pad_shape'])))
        if self.loss_track is not None:
            embeds = flatten_anchor_maps(embed_preds, self.embed_dim)
            losses['loss_track'] = self.loss_track_by_clip(
                embeds[pos.img_inds, pos.anchor_inds], pos, clip_gts,
                embeds.sum() * 0.)
        pos.params = flatten_anchor_maps(param_preds,
                                         self.num_params)[pos.img_inds,
                                                          pos.anchor_inds]
        return losses, [pos[pos.clip_inds == c] for c in range(len(clip_gts))]

    def get_clip_targets(self, cls_scores: List[Tensor],
                         batch_img_metas: List[dict],
                         clip_gts: InstanceList) -> dict:
        """Assign the anchors of every frame (Sec. 3.3, sample matcher) to
        the objects of its clip's ground truth ``clip_gts`` (per clip,
        :func:`batch_clip_instances`).

        Returns:
            dict: ``clip_gts``,
            ``labels`` and ``label_weights`` (N*T, A_all), ``anchors``
            (N*T, A_all, 4) and ``pos`` (InstanceData, one row per positive:
            ``img_inds`` (frame image in the batch), ``anchor_inds``,
            ``clip_inds``, ``frame_inds`` (frame of the anchor in its clip)
            and ``gt_inds`` (row in that clip's ground truth)).
        """
        t = self.clip_len
        num_frames = cls_scores[0].shape[0]
        if num_frames != len(batch_img_metas) or num_frames % t:
            raise ValueError(
                f'{num_frames} frame maps and {len(batch_img_metas)} frame '
                f'metas do not form clips of clip_len={t}')
        if len(clip_gts) * t != num_frames:
            raise ValueError(f'{len(clip_gts)} clip ground truths for '
                             f'{num_frames} frames of clip_len={t}')
        anchors, valid = self.frame_anchors(cls_scores, batch_img_metas)
        (labels, label_weights, _, _, pos_inds, _,
         sampling_results) = multi_apply(
             self._get_targets_single,
             anchors,
             valid,
             frame_match_gts(clip_gts, batch_img_metas, t),
             batch_img_metas,
             unmap_outputs=True)
        img_inds = torch.cat(
            [torch.full_like(p, i) for i, p in enumerate(pos_inds)])
        pos = InstanceData(
            img_inds=img_inds,
            anchor_inds=torch.cat(pos_inds),
            clip_inds=torch.div(img_inds, t, rounding_mode='floor'),
            frame_inds=img_inds % t,
            gt_inds=torch.cat(
                [s.pos_assigned_gt_inds for s in sampling_results]).long())
        return dict(
            clip_gts=clip_gts,
            labels=torch.stack(labels),
            label_weights=torch.stack(label_weights),
            anchors=torch.stack(anchors),
            pos=pos)

    def frame_anchors(self, cls_scores: List[Tensor],
                      batch_img_metas: List[dict]) -> tuple:
        """Per frame image: (A_all, 4) anchors and (A_all,) valid flags;
        with ``train_cfg.anchors_in_batch_padding`` every anchor of the
        padded batch is valid (the authors'), else mmdet's flags (anchors
        beyond the frame's own padded shape are invalid)."""
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        anchor_list, valid_list = self.get_anchors(
            featmap_sizes, batch_img_metas, device=cls_scores[0].device)
        anchors = [torch.cat(a) for a in anchor_list]
        valid = [torch.cat(v) for v in valid_list]
        if self.train_cfg.get('anchors_in_batch_padding', False):
            valid = [torch.ones_like(v) for v in valid]
        return anchors, valid

    def loss_cls_by_targets(self, scores: Tensor, targets: dict) -> Tensor:
        """Class loss over all frames' anchors, averaged over positives:
        focal loss, or softmax CE on all positives and the hardest
        ``neg_pos_ratio * #pos`` negatives of each frame (all negatives of a
        frame without positives are candidates too)."""
        labels, weights = targets['labels'], targets['label_weights']
        avg = max(len(targets['pos']), 1)
        if not self.use_ohem:
            return self.loss_cls(
                scores.reshape(-1, self.cls_out_channels),
                labels.reshape(-1),
                weights.reshape(-1),
                avg_factor=avg)
        ratio = self.train_cfg.get('neg_pos_ratio', 3)
        ce = self.loss_cls(
            scores.reshape(-1, self.cls_out_channels),
            labels.reshape(-1),
            reduction_override='none').view(labels.shape)
        pos = (labels < self.num_classes) & (weights > 0)
        neg = (labels == self.num_classes) & (weights > 0)
        total = (ce * pos).sum()
        for i in range(labels.shape[0]):
            k = int(pos[i].sum()) * ratio
            k = min(k, int(neg[i].sum())) if k > 0 else int(neg[i].sum())
            if k > 0:
                total = total + ce[i][neg[i]].topk(k)[0].sum()
        return total / avg

    def loss_boxes(self, pos_deltas: Tensor, pos_quality: Optional[Tensor],
                   pos: InstanceData, clip_gts: InstanceList,
                   pos_anchors: Tensor, batch_input_shape: tuple) -> dict:
        """SmoothL1 on the 4T deltas of the positives, 1 - DIoU on their
        decoded boxes and BCE of their quality (target: mean DIoU).

        ``train_cfg.box_iou_coords``: ``'pixels'`` (default) computes the
        DIoU in input pixels, ``'batch_normalized'`` in coordinates divided
        by the padded batch input (x / W, y / H), as the authors do
        (``docs/training_recipe.md#box-losses``). ``train_cfg.
        clamp_quality_target`` (default True) clamps the quality target to
        [0, 1]; the authors leave it unclamped (a mean DIoU can be
        negative)."""
        nb, num_pos = self.num_box_frames, len(pos)
        pos_deltas = pos_deltas.view(-1, nb, 4)
        gt_boxes = gather_clip_gt(clip_gts, pos, 'frame_bboxes',
                                  pos_deltas.new_zeros(0, self.clip_len, 4))
        if nb == 1:  # frame-level head: the anchor's own frame only
            gt_boxes = gt_boxes[torch.arange(num_pos), pos.frame_inds, None]
        anchors = pos_anchors[:, None].expand(-1, nb, 4)
        anchors, gt_flat = anchors.reshape(-1, 4), gt_boxes.reshape(-1, 4)
        targets = self.bbox_coder.encode(anchors, gt_flat)
        avg = max(num_pos * nb, 1)
        losses = dict(
            loss_bbox=self.loss_bbox(
                pos_deltas.reshape(-1, 4), targets, avg_factor=avg))
        if self.loss_diou is None and self.loss_quality is None:
            return losses
        decoded = self.bbox_coder.decode(anchors, pos_deltas.reshape(-1, 4))
        if self.train_cfg.get('box_iou_coords') == 'batch_normalized':
            h, w = batch_input_shape[:2]
            norm = decoded.new_tensor([w, h, w, h])
            decoded, gt_flat = decoded / norm, gt_flat / norm
        if self.loss_diou is not None:
            losses['loss_diou'] = self.loss_diou(
                decoded, gt_flat, avg_factor=avg)
        if self.loss_quality is not None:
            with torch.no_grad():
                dious = 1 - diou_loss(  # eps 1e-7
                    decoded, gt_flat, reduction='none').view(-1, nb)
                q_target = dious.mean(1)
                if self.train_cfg.get('clamp_quality_target', True):
                    q_target = q_target.clamp(0, 1)
            losses['loss_quality'] = self.loss_quality(
                pos_quality, q_target, avg_factor=max(num_pos, 1))
        return losses

    def loss_track_by_clip(self, pos_embeds: Tensor, pos: InstanceData,
                           clip_gts: InstanceList, zero: Tensor) -> Tensor:
        """Eq. 9 within each clip, averaged over the clips with positives
        (``train_cfg.track_loss_avg='clips_with_positives'``, default) or
        summed and divided by all clips of the batch (``'all_clips'``, the
        authors' normaliser)."""
        ids = gather_clip_gt(clip_gts, pos, 'instances_ids',
                             pos.clip_inds.new_zeros(0))
        losses = [
            self.loss_track(pos_embeds[pos.clip_inds == c],
                            ids[pos.clip_inds == c])
            for c in range(len(clip_gts)) if (pos.clip_inds == c).any()
        ]
        if not losses:
            return zero
        if self.train_cfg.get('track_loss_avg') == 'all_clips':
            return torch.stack(losses).sum() / len(clip_gts)
        return torch.stack(losses).mean()

    # ------------------------------------------------------------- test
    # The streaming test path of the head; its implementation is in
    # ./clip_predictor.py (selection and decoding shared with
    # predict_by_feat, towers evaluated at the candidates only).
    def clip_class_maps(self, x: Sequence[Tensor]) -> List[Tensor]:
        """Class maps of the frames of ``x``, per FPN level (the part the
        stream reuses for the frames shared with the previous clip when the
        class tower is 2D)."""
        return clip_predictor.class_maps(self, x)

    def predict_candidates(self,
                           x: Sequence[Tensor],
                           batch_img_metas: List[dict],
                           cls_maps: Optional[List[Tensor]] = None,
                           cfg: OptConfigType = None) -> InstanceList:
        """The clip's candidates (:func:`clip_predictor.predict_candidates`):
        scores, labels, frame and circumscribed boxes, mask parameters,
        quality; their embeddings come after the NMS
        (:meth:`add_embeddings`)."""
        return clip_predictor.predict_candidates(self, x, batch_img_metas,
                                                 cls_maps, cfg)

    def add_embeddings(self, x: Sequence[Tensor],
                       dets: InstanceData) -> InstanceData:
        """``dets`` with their track embeddings, the track tower evaluated
        at their locations only."""
        return clip_predictor.add_embeddings(self, x, dets)

    def predict_by_feat(self,
                        cls_scores: List[Tensor],
                        bbox_preds: List[Tensor],
                        param_preds: List[Tensor],
                        quality_preds: List[Optional[Tensor]],
                        embed_preds: List[Tensor],
                        batch_img_metas: List[dict],
                        cfg: OptConfigType = None,
                        rescale: bool = False,
                        **kwargs) -> InstanceList:
        """Candidates of each clip from dense head outputs (all anchors).

        Keeps anchors whose best class score exceeds ``cfg.score_thr`` and
        the ``cfg.nms_pre`` best of them per clip, pooled over its T
        frames, and decodes their 4T boxes.

        Returns:
            list[InstanceData]: per clip ``scores``, ``labels``,
            ``cls_scores`` (k, C), ``frame_bboxes`` (k, T, 4), ``bboxes``
            (k, 4) circumscribed, ``quality`` (k,), ``params`` (k, M),
            ``embeds`` (k, E), ``frame_inds`` and where each anchor sits
            (``levels``, ``locs``, ``anchor_inds``, ``flat_anchors``).
            Boxes are in input pixels, or in original-frame pixels with
            ``rescale``.
        """
        cfg = self.test_cfg if cfg is None else cfg
        t, nb = self.clip_len, self.num_box_frames
        sizes = [s.shape[-2:] for s in cls_scores]
        priors = torch.cat(
            self.prior_generator.grid_priors(
                sizes, device=cls_scores[0].device))
        flat = dict(
            deltas=flatten_anchor_maps(bbox_preds, 4 * nb),
            params=flatten_anchor_maps(param_preds, self.num_params),
            embeds=flatten_anchor_maps(embed_preds, self.embed_dim))
        if self.with_quality:
            flat['quality'] = flatten_anchor_maps(quality_preds,
                                                  1)[..., 0].sigmoid()
        results = []
        for c in range(cls_scores[0].shape[0] // t):
            res = select_candidates(self, cls_scores, priors, c, cfg)
            at = {
                k: v[c * t:(c + 1) * t][res.frame_inds, res.flat_anchors]
                for k, v in flat.items()
            }
            decode_candidates(self, res, at['deltas'], at['params'],
                              at.get('quality'), priors,
                              batch_img_metas[c * t])
            res.embeds = at['embeds']
            if rescale:
                rescale_clip_boxes(res, batch_img_metas[c * t])
            results.append(res)
        return results


def _forget_dropped_keys(module: nn.Module, incompatible: Any) -> None:
    """Load post hook of :class:`CiCoClipHead`: drop the class-layer keys
    it re-initialised from the missing keys (a module-level function, so the
    head stays picklable)."""
    dropped = getattr(module, '_dropped_cls_keys', [])
    incompatible.missing_keys[:] = [
        k for k in incompatible.missing_keys if k not in dropped
    ]
    module._dropped_cls_keys = []


def _check_args(clip_len: int, param_act: Optional[str],
                train_cfg: OptConfigType, prediction_init: str) -> None:
    if prediction_init not in ('normal', 'xavier'):
        raise ValueError("prediction_init must be 'normal' or 'xavier', got "
                         f'{prediction_init!r}')
    if clip_len < 1:
        raise ValueError(f'clip_len must be >= 1, got {clip_len}')
    if param_act not in ('tanh', None):
        raise ValueError(
            f"param_act must be 'tanh' or None, got {param_act!r}")
    choices = dict(
        box_iou_coords=('pixels', 'batch_normalized'),
        track_loss_avg=('clips_with_positives', 'all_clips'))
    for key, allowed in choices.items():
        value = (train_cfg or {}).get(key, allowed[0])
        if value not in allowed:
            raise ValueError(f'train_cfg.{key} must be one of {allowed}, '
                             f'got {value!r}')
    if train_cfg and train_cfg.get('allowed_border', -1) != -1:
        raise ValueError('CiCoClipHead needs train_cfg.allowed_border=-1 '
                         '(anchors are matched on every frame position)')


def frame_match_gts(clip_gts: InstanceList, batch_img_metas: List[dict],
                    t: int) -> InstanceList:
    """What the assigner of frame image i sees: its clip's objects
    (``bboxes``, ``labels``, ``frame_bboxes`` (n, T, 4)) with the frame's
    index in the clip and the padded batch input shape as metainfo."""
    return [
        InstanceData(
            metainfo=dict(
                frame_index=i % t,
                batch_input_shape=meta.get('batch_input_shape',
                                           meta['pad_shape'])),
            bboxes=clip_gts[i // t].bboxes,
            labels=clip_gts[i // t].labels,
            frame_bboxes=clip_gts[i // t].frame_bboxes)
        for i, meta in enumerate(batch_img_metas)
    ]


def gather_clip_gt(clip_gts: InstanceList, pos: InstanceData, key: str,
                   empty: Tensor) -> Tensor:
    """``clip_gts[pos.clip_inds[k]][key][pos.gt_inds[k]]`` for every
    positive k (``empty`` when there is none)."""
    if len(pos) == 0:
        return empty
    out = None
    for c in pos.clip_inds.unique().tolist():
        sel = pos.clip_inds == c
        val = clip_gts[c][key][pos.gt_inds[sel]]
        if out is None:
            out = val.new_zeros((len(pos), ) + val.shape[1:])
        out[sel] = val
    return out


def rescale_clip_boxes(res: InstanceData, meta: dict) -> None:
    """Boxes from input pixels to original-frame pixels (mmdet's
    ``rescale``: divided by the frame's ``scale_factor``)."""
    sf = res.frame_bboxes.new_tensor(meta.get('scale_factor',
                                              (1., 1.))).repeat(2)
    res.frame_bboxes = res.frame_bboxes / sf
    res.bboxes = res.bboxes / sf
