"""Clip-level prediction heads (CPH), paper Sec. 3.3 and Fig. 2(c).

Shared over FPN levels P3-P7. Three towers, each 2D (per frame) or 3D (over
the clip cube) by its own switch (Table 1b): the class tower feeds the class
scores; the box tower feeds 4T box deltas, the clip's mask parameters (tanh)
and a box-quality logit; the track tower feeds an L2-normalised embedding.
The final prediction layers are 2D 3x3 convs, so every frame position of the
clip has its own anchors, each regressing the boxes of all T frames and
predicting one mask-parameter vector and one embedding for the whole clip
(REFERENCE_FACTS 1.3).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import InstanceData
from torch import Tensor

from mmdet.models.dense_heads import YOLACTHead
from mmdet.models.losses.iou_loss import diou_loss
from mmdet.models.utils import multi_apply
from mmdet.registry import MODELS
from mmdet.utils import ConfigType, InstanceList, OptConfigType, OptMultiConfig
from ..layers import ClipConvTower
from ..layers.sparse_tower import sparse_tower_outputs, supports_sparse


@MODELS.register_module()
class CiCoClipHead(YOLACTHead):
    """CPH of CiCo.

    Args:
        num_classes (int): foreground classes.
        in_channels (int): FPN channels.
        clip_len (int): T, frames per clip (4T box outputs per anchor).
        feat_channels (int): tower channels.
        stacked_convs (int): conv layers per tower (paper: 4).
        cls_tower_3d / box_tower_3d / track_tower_3d (bool): 3D convs in
            that tower (paper defaults: class 2D, box 3D, track 3D).
        temporal_kernel_size (int): temporal extent of 3D kernels (3).
        tower_norm_cfg (dict, optional): norm in the towers (reference: none).
        num_params (int): mask parameters per anchor (Yolact: K=32
            coefficients; CondInst: weights+biases of the dynamic FCN).
        embed_dim (int): tracking embedding size (64).
        param_act (str, optional): activation of the mask parameters:
            'tanh' (reference, Yolact coefficients and CondInst filters) or
            None (linear, as the original CondInst controller).
        with_quality (bool): predict the box-quality (DIoU) score used for
            rescoring (REFERENCE_FACTS 4, "center").
        regress_clip_boxes (bool): each anchor regresses the boxes of all T
            frames (4T deltas, CiCo). ``False`` regresses only the anchor's
            own frame (4 deltas), the frame-level head of Table 1a; its box
            is then used for every frame of the clip.
        loss_cls, loss_bbox (dict): class loss (focal, or CE with ``use_ohem``)
            and SmoothL1 on the 4T deltas.
        loss_diou (dict, optional): 1 - DIoU on decoded boxes.
        loss_quality (dict, optional): BCE of the quality logit.
        loss_track (dict, optional): Eq. 9.
        use_ohem (bool): softmax CE with hard negative mining
            (``train_cfg.neg_pos_ratio`` negatives per positive) instead of
            the sigmoid focal loss (OVIS configs).
    """

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
                 anchor_generator: ConfigType = dict(
                     type='AnchorGenerator',
                     octave_base_scale=3,
                     scales_per_octave=1,
                     ratios=[1.0, 2.0, 0.5],
                     strides=[8, 16, 32, 64, 128],
                     center_offset=0.5),
                 bbox_coder: ConfigType = dict(
                     type='DeltaXYWHBBoxCoder',
                     target_means=[0., 0., 0., 0.],
                     target_stds=[0.1, 0.1, 0.2, 0.2]),
                 loss_cls: ConfigType = dict(
                     type='FocalLoss',
                     use_sigmoid=True,
                     gamma=2.0,
                     alpha=0.25,
                     loss_weight=5.0),
                 loss_bbox: ConfigType = dict(
                     type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
                 loss_diou: OptConfigType = dict(
                     type='DIoULoss', loss_weight=1.0),
                 loss_quality: OptConfigType = dict(
                     type='CrossEntropyLoss', use_sigmoid=True,
                     loss_weight=1.0),
                 loss_track: OptConfigType = dict(
                     type='TrackEmbedLoss', loss_weight=5.0),
                 use_ohem: bool = False,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 init_cfg: OptMultiConfig = dict(
                     type='Xavier',
                     distribution='uniform',
                     bias=0,
                     layer=['Conv2d', 'Conv3d']),
                 **kwargs) -> None:
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        self.clip_len = clip_len
        self.stacked_convs = stacked_convs
        self.tower_3d = dict(
            cls=cls_tower_3d, box=box_tower_3d, track=track_tower_3d)
        self.temporal_kernel_size = temporal_kernel_size
        self.tower_norm_cfg = tower_norm_cfg
        self.embed_dim = embed_dim
        if param_act not in ('tanh', None):
            raise ValueError(
                f"param_act must be 'tanh' or None, got {param_act!r}")
        self.param_act = param_act
        self.with_quality = with_quality
        self.regress_clip_boxes = regress_clip_boxes
        super().__init__(
            num_classes=num_classes,
            in_channels=in_channels,
            feat_channels=feat_channels,
            anchor_generator=anchor_generator,
            bbox_coder=bbox_coder,
            loss_cls=loss_cls,
            loss_bbox=loss_bbox,
            num_protos=num_params,
            use_ohem=use_ohem,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            init_cfg=init_cfg,
            **kwargs)
        if self.use_sigmoid_cls == use_ohem:
            raise ValueError(
                'use the sigmoid focal loss (use_sigmoid=True) without OHEM, '
                'or a softmax CE loss (use_sigmoid=False) with use_ohem=True')
        if train_cfg and train_cfg.get('allowed_border', -1) != -1:
            raise ValueError('CiCoClipHead needs train_cfg.allowed_border=-1 '
                             '(anchors are matched on every frame position)')
        self.loss_diou = MODELS.build(loss_diou) if loss_diou else None
        self.loss_quality = MODELS.build(
            loss_quality) if loss_quality and with_quality else None
        self.loss_track = MODELS.build(loss_track) if loss_track else None

    @property
    def num_box_frames(self) -> int:
        """Frames whose box each anchor regresses (T, or 1)."""
        return self.clip_len if self.regress_clip_boxes else 1

    @property
    def num_params(self) -> int:
        """Mask parameters per anchor (M)."""
        return self.num_protos

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
        self.conv_reg = nn.Conv2d(chn, a * 4 * self.num_box_frames, 3,
                                  padding=1)
        self.conv_coeff = nn.Conv2d(chn, a * self.num_protos, 3, padding=1)
        self.conv_quality = nn.Conv2d(
            chn, a, 3, padding=1) if self.with_quality else None
        self.conv_track = nn.Conv2d(chn, a * self.embed_dim, 3, padding=1)

    def init_weights(self) -> None:
        """Towers by ``init_cfg`` (Xavier); prediction layers N(0, 0.01)
        with zero bias, as mmdet's RetinaNet/FCOS heads, so training from
        scratch starts from near-zero deltas; with the focal loss the class
        bias starts at the prior p = 0.01 (RetinaNet)."""
        super().init_weights()
        for conv in (self.conv_cls, self.conv_reg, self.conv_coeff,
                     self.conv_quality, self.conv_track):
            if conv is not None:
                nn.init.normal_(conv.weight, std=0.01)
                nn.init.constant_(conv.bias, 0.)
        if self.use_sigmoid_cls:
            prior = self.train_cfg.get('cls_prior_prob', 0.01) \
                if self.train_cfg else 0.01
            nn.init.constant_(self.conv_cls.bias,
                              -float(torch.log(torch.tensor((1 - prior) /
                                                            prior))))

    # ----------------------------------------------------------- forward
    def forward_single(self, x: Tensor) -> Tuple[Tensor, ...]:
        """One FPN level, ``x``: (N*T, C, h, w), frames of a clip adjacent.

        Returns:
            tuple: cls (N*T, A*C', h, w), reg (N*T, A*4T, h, w), coeff
            (N*T, A*M, h, w) in [-1, 1], quality logits (N*T, A, h, w) or
            None, embeddings (N*T, A*E, h, w), L2-normalised per anchor.
        """
        t = self.clip_len
        cls_feat = self.cls_tower(x, t)
        box_feat = self.box_tower(x, t)
        track_feat = self.track_tower(x, t)
        cls_score = self.conv_cls(cls_feat)
        bbox_pred = self.conv_reg(box_feat)
        coeff_pred = self._param_act(self.conv_coeff(box_feat))
        quality = self.conv_quality(box_feat) if self.with_quality else None
        embed = self.conv_track(track_feat)
        nt, _, h, w = embed.shape
        embed = F.normalize(
            embed.view(nt, self.num_base_priors, self.embed_dim, h, w),
            dim=2).view(nt, -1, h, w)
        return cls_score, bbox_pred, coeff_pred, quality, embed

    def _param_act(self, params: Tensor) -> Tensor:
        return params.tanh() if self.param_act == 'tanh' else params

    def _flat(self, maps: Sequence[Tensor], dim: int) -> Tensor:
        """Per-level (N*T, A*dim, h, w) -> (N*T, sum_l h*w*A, dim), anchor
        order of ``AnchorGenerator`` (level, y, x, ratio)."""
        return torch.cat([
            m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, dim) for m in maps
        ], 1)

    # ------------------------------------------------------------- train
    def loss(self, x: Tuple[Tensor], clip_gts: InstanceList,
             frame_metas: List[dict]) -> dict:
        """Losses of a batch of clips.

        Args:
            x (tuple[Tensor]): FPN levels, each (N*T, C, h, w).
            clip_gts (list[InstanceData]): one per clip, from
                ``build_clip_instances`` (``frame_bboxes`` (n, T, 4),
                ``labels``, ``instances_ids``, ...).
            frame_metas (list[dict]): N*T frame metainfos.
        """
        outs = self(x)
        return self.loss_by_feat(*outs, clip_gts, frame_metas)

    def loss_by_feat(self, cls_scores: List[Tensor], bbox_preds: List[Tensor],
                     coeff_preds: List[Tensor],
                     quality_preds: List[Optional[Tensor]],
                     embed_preds: List[Tensor], clip_gts: InstanceList,
                     frame_metas: List[dict]) -> dict:
        t = self.clip_len
        num_frames = cls_scores[0].shape[0]
        if num_frames != len(clip_gts) * t or len(frame_metas) != num_frames:
            raise ValueError(
                f'{num_frames} frame maps, {len(frame_metas)} frame metas and '
                f'{len(clip_gts)} clips do not fit clip_len={t}')
        device = cls_scores[0].device
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        anchor_list, valid_list = self.get_anchors(
            featmap_sizes, frame_metas, device=device)
        anchors = [torch.cat(a) for a in anchor_list]
        valids = [torch.cat(v) for v in valid_list]
        frame_gts = []
        for i in range(num_frames):
            gt = clip_gts[i // t]
            frame_gts.append(
                InstanceData(
                    metainfo=dict(frame_index=i % t),
                    bboxes=gt.bboxes,
                    labels=gt.labels,
                    frame_bboxes=gt.frame_bboxes))
        (labels, label_weights, _, _, pos_inds_list, _,
         sampling_results) = multi_apply(
             self._get_targets_single,
             anchors,
             valids,
             frame_gts,
             frame_metas,
             unmap_outputs=True)
        labels = torch.stack(labels)  # (N*T, A_all)
        label_weights = torch.stack(label_weights)
        num_pos = sum(len(p) for p in pos_inds_list)
        avg = max(num_pos, 1)

        scores = self._flat(cls_scores, self.cls_out_channels)
        nb = self.num_box_frames
        deltas = self._flat(bbox_preds, 4 * nb)
        coeffs = self._flat(coeff_preds, self.num_protos)
        embeds = self._flat(embed_preds, self.embed_dim)
        quality = self._flat(quality_preds, 1)[..., 0] \
            if self.with_quality else None
        if not torch.isfinite(scores).all() or not torch.isfinite(
                deltas).all():
            raise FloatingPointError(
                'CPH predictions became NaN/Inf: lower the learning rate or '
                'check the input normalisation')

        losses = dict()
        if self.use_ohem:
            losses['loss_cls'] = self._ohem_cls_loss(scores, labels,
                                                     label_weights, avg)
        else:
            losses['loss_cls'] = self.loss_cls(
                scores.reshape(-1, self.cls_out_channels),
                labels.reshape(-1),
                label_weights.reshape(-1),
                avg_factor=avg)

        # positives of every frame image: (frame image, anchor, gt)
        img_idx = torch.cat([
            torch.full_like(p, i) for i, p in enumerate(pos_inds_list)
        ]) if num_pos else labels.new_zeros(0)
        anc_idx = torch.cat(pos_inds_list) if num_pos else labels.new_zeros(0)
        gt_idx = torch.cat([s.pos_assigned_gt_inds for s in sampling_results
                            ]) if num_pos else labels.new_zeros(0)
        clip_idx = torch.div(img_idx, t, rounding_mode='floor')
        frame_idx = img_idx % t

        pos_deltas = deltas[img_idx, anc_idx].view(-1, nb, 4)
        pos_anchors = torch.stack(anchors)[img_idx, anc_idx]
        gt_boxes = self._gather_gt(clip_gts, clip_idx, gt_idx, 'frame_bboxes',
                                   (t, 4), pos_deltas)
        if nb == 1:  # frame-level head: the anchor's own frame only
            gt_boxes = gt_boxes[torch.arange(len(frame_idx)), frame_idx, None]
        anc_t = pos_anchors[:, None].expand(-1, nb, 4).reshape(-1, 4)
        targets = self.bbox_coder.encode(anc_t, gt_boxes.reshape(-1, 4))
        losses['loss_bbox'] = self.loss_bbox(
            pos_deltas.reshape(-1, 4), targets,
            avg_factor=max(num_pos * nb, 1))
        if self.loss_diou is not None or self.loss_quality is not None:
            decoded = self.bbox_coder.decode(anc_t, pos_deltas.reshape(-1, 4))
            gt_flat = gt_boxes.reshape(-1, 4)
            if self.loss_diou is not None:
                losses['loss_diou'] = self.loss_diou(
                    decoded, gt_flat, avg_factor=max(num_pos * nb, 1))
            if self.loss_quality is not None:
                with torch.no_grad():
                    dious = 1 - diou_loss(
                        decoded, gt_flat, reduction='none').view(-1, nb)
                    q_target = dious.mean(1).clamp(0, 1)
                losses['loss_quality'] = self.loss_quality(
                    quality[img_idx, anc_idx],
                    q_target,
                    avg_factor=max(num_pos, 1))
        if self.loss_track is not None:
            pos_embeds = embeds[img_idx, anc_idx]
            pos_ids = self._gather_gt(clip_gts, clip_idx, gt_idx,
                                      'instances_ids', (), clip_idx)
            track_losses = [
                self.loss_track(pos_embeds[clip_idx == c],
                                pos_ids[clip_idx == c])
                for c in range(len(clip_gts)) if (clip_idx == c).any()
            ]
            losses['loss_track'] = torch.stack(track_losses).mean() \
                if track_losses else embeds.sum() * 0.
        self._raw_positive_infos = dict(
            clip_inds=clip_idx,
            frame_inds=frame_idx,
            gt_inds=gt_idx,
            coeffs=coeffs[img_idx, anc_idx],
            num_clips=len(clip_gts))
        return losses

    @staticmethod
    def _gather_gt(clip_gts: InstanceList, clip_idx: Tensor, gt_idx: Tensor,
                   key: str, shape: tuple, like: Tensor) -> Tensor:
        """``clip_gts[clip_idx[k]][key][gt_idx[k]]`` for every positive k."""
        out = []
        for c in clip_idx.unique().tolist() if len(clip_idx) else []:
            sel = clip_idx == c
            out.append((sel, clip_gts[c][key][gt_idx[sel]]))
        if not out:
            dtype = like.dtype if key != 'instances_ids' else torch.long
            return like.new_zeros((0, ) + shape, dtype=dtype)
        result = out[0][1].new_zeros((len(clip_idx), ) + shape)
        for sel, val in out:
            result[sel] = val
        return result

    def _ohem_cls_loss(self, scores: Tensor, labels: Tensor,
                       label_weights: Tensor, avg: int) -> Tensor:
        """Softmax CE on all positives and the hardest
        ``neg_pos_ratio * #pos`` negatives of each frame (all negatives of a
        frame without positives are candidates too), divided by #pos."""
        ratio = self.train_cfg.get('neg_pos_ratio', 3)
        ce = self.loss_cls(
            scores.reshape(-1, self.cls_out_channels),
            labels.reshape(-1),
            reduction_override='none').view(labels.shape)
        pos = (labels < self.num_classes) & (label_weights > 0)
        neg = (labels == self.num_classes) & (label_weights > 0)
        total = (ce * pos).sum()
        for i in range(labels.shape[0]):
            k = int(pos[i].sum()) * ratio
            k = min(k, int(neg[i].sum())) if k > 0 else int(neg[i].sum())
            if k > 0:
                total = total + ce[i][neg[i]].topk(k)[0].sum()
        return total / avg

    def get_positive_infos(self) -> InstanceData:
        """Positives of the last ``loss`` call, flat over the batch:
        ``clip_inds``, ``frame_inds`` (frame of the anchor), ``gt_inds``
        (row in that clip's ground truth) and ``coeffs`` (P, M)."""
        assert self._raw_positive_infos, 'call loss() first'
        info = dict(self._raw_positive_infos)
        num_clips = info.pop('num_clips')
        return InstanceData(metainfo=dict(num_clips=num_clips), **info)

    # ------------------------------------------------------------- test
    def predict_clip(self,
                     x: Tuple[Tensor],
                     frame_metas: List[dict],
                     cfg: OptConfigType = None,
                     cls_cache: Optional[dict] = None) -> InstanceList:
        """Candidates of each clip, pooled over its T frames.

        Keeps anchors whose best class score exceeds ``cfg.score_thr``, the
        ``cfg.nms_pre`` best of them per clip, and decodes their 4T boxes.
        With ``cfg.sparse_towers`` (default True) only the class tower runs
        on the whole map; the box tower runs at the candidates' locations
        and the track tower is left to :meth:`add_embeddings` (call it after
        NMS), both exactly equal to the dense computation.

        Returns:
            list[InstanceData]: per clip ``scores`` (k,), ``labels`` (k,),
            ``cls_scores`` (k, C), ``frame_bboxes`` (k, T, 4) in the input
            (resized) frame, ``bboxes`` (k, 4) circumscribed, ``quality``
            (k,) in [0, 1] (1 without the quality branch), ``coeffs`` (k, M),
            ``frame_inds`` (k,) frame of the anchor, ``levels``/``locs``/
            ``anchor_inds`` (where the anchor sits), and ``embeds`` (k, E)
            in dense mode.

        ``cls_cache`` (streaming test, one clip per call): a dict that keeps
        the class maps of each ``frame_id``; with a 2D class tower a frame
        shared with the previous clip is not computed again.
        """
        cfg = self.test_cfg if cfg is None else cfg
        if not (cfg.get('sparse_towers', True)
                and supports_sparse(self.box_tower)
                and supports_sparse(self.track_tower)):
            outs = self(x)
            return self.predict_by_feat(
                *outs, frame_metas=frame_metas, cfg=cfg)
        t = self.clip_len
        cls_scores = self._class_maps(x, frame_metas, cls_cache)
        sizes = [s.shape[-2:] for s in cls_scores]
        priors = torch.cat(
            self.prior_generator.grid_priors(sizes, device=x[0].device))
        results = []
        for c in range(cls_scores[0].shape[0] // t):
            res = self._candidates(cls_scores, sizes, priors, c, cfg)
            outs = self._box_outputs_at(x, res, c)
            self._decode(res, *outs, priors, frame_metas[c * t])
            results.append(res)
        return results

    def _class_maps(self, x: Tuple[Tensor], frame_metas: List[dict],
                    cache: Optional[dict]) -> List[Tensor]:
        """Class logits per level (N*T, A*C', h, w); per-frame cached when
        the class tower is 2D (frames are independent then)."""
        t = self.clip_len
        if cache is None or self.cls_tower.is_3d or x[0].shape[0] != t:
            return [self.conv_cls(self.cls_tower(lvl, t)) for lvl in x]
        ids = [m.get('frame_id', k) for k, m in enumerate(frame_metas)]
        todo = [k for k, f in enumerate(ids) if f not in cache]
        todo = [k for k in todo if ids.index(ids[k]) == k]  # distinct
        if todo:
            maps = [
                self.conv_cls(self.cls_tower(lvl[todo], t)) for lvl in x
            ]
            for j, k in enumerate(todo):
                cache[ids[k]] = [m[j:j + 1] for m in maps]
        maps = [
            torch.cat([cache[f][lvl] for f in ids]) for lvl in range(len(x))
        ]
        for f in [f for f in cache if f not in ids]:
            cache.pop(f)  # only the current clip's frames are kept
        return maps

    def _score_map(self, cls_scores: List[Tensor], c: int) -> Tensor:
        t = self.clip_len
        flat = self._flat([s[c * t:(c + 1) * t] for s in cls_scores],
                          self.cls_out_channels)
        flat = flat.sigmoid() if self.use_sigmoid_cls else flat.softmax(
            -1)[..., :self.num_classes]
        return flat  # (T, A_all, C)

    def _candidates(self, cls_scores: List[Tensor], sizes: list,
                    priors: Tensor, c: int, cfg: ConfigType) -> InstanceData:
        """Score threshold and top-k over the T frames of clip ``c``, and
        where each kept anchor sits (level, (y, x), anchor, frame)."""
        s = self._score_map(cls_scores, c).reshape(-1, self.num_classes)
        best, label = s.max(1)
        keep = (best > cfg.get('score_thr', 0.1)).nonzero()[:, 0]
        nms_pre = cfg.get('nms_pre', 300)
        if keep.numel() > nms_pre:
            keep = keep[best[keep].topk(nms_pre)[1]]
        num_anchors = priors.shape[0]
        a = self.num_base_priors
        anchor = keep % num_anchors
        starts = torch.tensor([0] + [int(h * w * a) for h, w in sizes],
                              device=keep.device).cumsum(0)
        level = torch.searchsorted(starts[1:], anchor, right=True)
        in_level = anchor - starts[level]
        widths = torch.tensor([int(w) for _, w in sizes],
                              device=keep.device)[level]
        loc = torch.div(in_level, a, rounding_mode='floor')
        res = InstanceData()
        res.scores = best[keep]
        res.labels = label[keep]
        res.cls_scores = s[keep]
        res.frame_inds = torch.div(keep, num_anchors, rounding_mode='floor')
        res.flat_anchors = anchor
        res.levels = level
        res.locs = torch.stack(
            [torch.div(loc, widths, rounding_mode='floor'), loc % widths], 1)
        res.anchor_inds = in_level % a
        return res

    def _gather_at(self, tower: ClipConvTower, preds: List[nn.Conv2d],
                   x: Tuple[Tensor], res: InstanceData, c: int,
                   dims: List[int]) -> List[Tensor]:
        """Outputs of ``preds(tower(.))`` for the candidates of clip ``c``:
        per prediction conv (k, dim) at each candidate's frame and anchor.
        Per level, the towers run densely when the candidates' patches
        would cost more than the whole map."""
        t, a = self.clip_len, self.num_base_priors
        k = len(res)
        outs = [x[0].new_zeros(k, d) for d in dims]
        radius = len(tower.convs) + 1
        for lvl, feat in enumerate(x):
            sel = (res.levels == lvl).nonzero()[:, 0]
            if sel.numel() == 0:
                continue
            clip_feat = feat[c * t:(c + 1) * t]
            locs, inv = res.locs[sel].unique(dim=0, return_inverse=True)
            h, w = clip_feat.shape[-2:]
            patch_cost = locs.shape[0] * sum(
                (2 * r + 1)**2 for r in range(1, radius))
            if patch_cost < h * w * max(len(tower.convs), 1):
                vals = sparse_tower_outputs(tower, preds, clip_feat, locs, t)
                rows = [v[inv, res.frame_inds[sel]] for v in vals]
            else:
                dense = tower(clip_feat, t)
                rows = [
                    p(dense)[res.frame_inds[sel], :, res.locs[sel, 0],
                             res.locs[sel, 1]] for p in preds
                ]
            ai = res.anchor_inds[sel]
            for out, row, d in zip(outs, rows, dims):
                out[sel] = row.view(len(sel), a, d)[torch.arange(len(sel)),
                                                    ai]
        return outs

    def _box_outputs_at(self, x: Tuple[Tensor], res: InstanceData,
                        c: int) -> List[Tensor]:
        preds = [self.conv_reg, self.conv_coeff]
        dims = [4 * self.num_box_frames, self.num_protos]
        if self.with_quality:
            preds.append(self.conv_quality)
            dims.append(1)
        outs = self._gather_at(self.box_tower, preds, x, res, c, dims)
        quality = outs[2][:, 0].sigmoid() if self.with_quality else None
        return outs[0], self._param_act(outs[1]), quality

    def _decode(self, res: InstanceData, deltas: Tensor, coeffs: Tensor,
                quality: Optional[Tensor], priors: Tensor,
                meta: dict) -> None:
        t, nb = self.clip_len, self.num_box_frames
        d = deltas.view(-1, nb, 4)
        p = priors[res.flat_anchors][:, None].expand(-1, nb, 4)
        boxes = self.bbox_coder.decode(
            p.reshape(-1, 4), d.reshape(-1, 4),
            max_shape=meta['img_shape']).view(-1, nb, 4).expand(-1, t, 4)
        res.frame_bboxes = boxes
        res.bboxes = torch.cat(
            [boxes[..., :2].min(1)[0], boxes[..., 2:].max(1)[0]], -1)
        res.quality = quality if quality is not None else torch.ones_like(
            res.scores)
        res.coeffs = coeffs

    def add_embeddings(self, x: Tuple[Tensor], res: InstanceData,
                       c: int = 0) -> InstanceData:
        """Tracking embeddings (L2-normalised) of the detections of clip
        ``c``, computed at their locations only (no-op if present)."""
        if 'embeds' in res:
            return res
        e = self._gather_at(self.track_tower, [self.conv_track], x, res, c,
                            [self.embed_dim])[0]
        res.embeds = F.normalize(e, dim=1)
        return res

    def predict_by_feat(self, cls_scores: List[Tensor],
                        bbox_preds: List[Tensor], coeff_preds: List[Tensor],
                        quality_preds: List[Optional[Tensor]],
                        embed_preds: List[Tensor], frame_metas: List[dict],
                        cfg: ConfigType) -> InstanceList:
        t = self.clip_len
        device = cls_scores[0].device
        featmap_sizes = [s.shape[-2:] for s in cls_scores]
        priors = torch.cat(
            self.prior_generator.grid_priors(featmap_sizes, device=device))
        scores = self._flat(cls_scores, self.cls_out_channels)
        nb = self.num_box_frames
        deltas = self._flat(bbox_preds, 4 * nb)
        coeffs = self._flat(coeff_preds, self.num_protos)
        embeds = self._flat(embed_preds, self.embed_dim)
        quality = self._flat(quality_preds, 1)[..., 0].sigmoid() \
            if self.with_quality else None
        results = []
        for c in range(scores.shape[0] // t):
            res = self._candidates(cls_scores, featmap_sizes, priors, c, cfg)
            sl = slice(c * t, (c + 1) * t)
            idx = (res.frame_inds, res.flat_anchors)
            self._decode(res, deltas[sl][idx], coeffs[sl][idx],
                         quality[sl][idx] if quality is not None else None,
                         priors, frame_metas[c * t])
            res.embeds = embeds[sl][idx]
            results.append(res)
        return results
