"""Test-time candidates of the CPH (paper Sec. 3.4, inference).

A clip's candidates are the anchors of its T frames whose best class score
exceeds ``score_thr``, the ``nms_pre`` best of them pooled over the clip.
Each regresses the boxes of all T frames and predicts one mask-parameter
vector and one embedding.

The streaming test (:func:`predict_candidates`) runs only the class tower on
the whole feature maps. The box tower then runs at the candidates' locations
and the track tower at the detections that survive NMS
(:func:`add_embeddings`), both on small patches that give exactly the dense
result there (:mod:`..layers.sparse_tower`). A head whose towers do not allow
that (e.g. BatchNorm in training mode) falls back to the dense
``CiCoClipHead.predict_by_feat``, which shares the selection and decoding
below.
"""
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.utils import ConfigType, InstanceList, OptConfigType
from mmengine.structures import InstanceData
from torch import Tensor

from ..layers import ClipConvTower
from ..layers.sparse_tower import sparse_tower_outputs, supports_sparse
from ..utils import circumscribed_boxes


def flatten_anchor_maps(maps: Sequence[Tensor], dim: int) -> Tensor:
    """Per-level (N*T, A*dim, h, w) -> (N*T, sum_l h*w*A, dim), in the
    anchor order of ``AnchorGenerator`` (level, y, x, anchor)."""
    return torch.cat(
        [m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, dim) for m in maps], 1)


def class_maps(head: nn.Module, x: Sequence[Tensor]) -> List[Tensor]:
    """Class logits per level (M, A*C', h, w) of M frames (whole clips when
    the class tower is 3D)."""
    return [head.conv_cls(head.cls_tower(lvl, head.clip_len)) for lvl in x]


def select_candidates(head: nn.Module, cls_scores: List[Tensor],
                      priors: Tensor, c: int, cfg: ConfigType) -> InstanceData:
    """Score threshold and top-k over the T frames of clip ``c`` (or the
    frames in ``cfg.candidate_frames``), and where each kept anchor sits.

    Returns:
        InstanceData: ``scores``, ``labels``, ``cls_scores`` (k, C),
        ``frame_inds`` (frame of the anchor), ``flat_anchors`` (index in the
        flat anchors of one frame), ``levels``, ``locs`` (k, 2) (y, x) and
        ``anchor_inds`` (anchor at that location).
    """
    t, a = head.clip_len, head.num_base_priors
    sizes = [s.shape[-2:] for s in cls_scores]
    flat = flatten_anchor_maps([s[c * t:(c + 1) * t] for s in cls_scores],
                               head.cls_out_channels)
    flat = flat.sigmoid() if head.use_sigmoid_cls else flat.softmax(-1)[
        ..., :head.num_classes]
    s = flat.reshape(-1, head.num_classes)  # (T * A_all, C)
    best, label = s.max(1)
    ok = best > cfg.get('score_thr', 0.1)
    frames = cfg.get('candidate_frames')
    if frames is not None:  # anchors of these clip frames only
        ok &= _frame_mask(frames, t, s.shape[0] // t, ok.device)
    keep = ok.nonzero()[:, 0]
    nms_pre = cfg.get('nms_pre', 300)
    if keep.numel() > nms_pre:
        keep = keep[best[keep].topk(nms_pre)[1]]
    num_anchors = priors.shape[0]
    anchor = keep % num_anchors
    starts = torch.tensor(
        [0] + [int(h * w * a) for h, w in sizes], device=keep.device).cumsum(0)
    level = torch.searchsorted(starts[1:], anchor, right=True)
    in_level = anchor - starts[level]
    widths = torch.tensor([int(w) for _, w in sizes],
                          device=keep.device)[level]
    loc = torch.div(in_level, a, rounding_mode='floor')
    return InstanceData(
        scores=best[keep],
        labels=label[keep],
        cls_scores=s[keep],
        frame_inds=torch.div(keep, num_anchors, rounding_mode='floor'),
        flat_anchors=anchor,
        levels=level,
        locs=torch.stack(
            [torch.div(loc, widths, rounding_mode='floor'), loc % widths], 1),
        anchor_inds=in_level % a)


def _frame_mask(frames: Sequence[int], t: int, per_frame: int,
                device: torch.device) -> Tensor:
    """(T * per_frame,) True for the anchors of the clip frames
    ``frames`` (``test_cfg.candidate_frames``)."""
    bad = [f for f in frames if not 0 <= f < t]
    if bad or not len(frames):
        raise ValueError(f'test_cfg.candidate_frames={list(frames)}: need '
                         f'frame positions in 0..{t - 1} of the clip')
    mask = torch.zeros(t, dtype=torch.bool, device=device)
    mask[list(frames)] = True
    return mask.repeat_interleave(per_frame)


def decode_candidates(head: nn.Module, res: InstanceData, deltas: Tensor,
                      params: Tensor, quality: Optional[Tensor],
                      priors: Tensor, meta: dict) -> None:
    """Adds ``frame_bboxes`` (k, T, 4) (a frame-level head's box repeated
    over the clip), their circumscribed ``bboxes`` (k, 4, Eq. 4),
    ``quality`` (1 without the quality branch) and ``params`` to ``res``.
    Boxes are clipped to the frame unless ``test_cfg.clip_boxes_to_frame``
    is False (the authors never clip them)."""
    t, nb = head.clip_len, head.num_box_frames
    anchors = priors[res.flat_anchors][:, None].expand(-1, nb, 4)
    clip = (head.test_cfg or {}).get('clip_boxes_to_frame', True)
    boxes = head.bbox_coder.decode(
        anchors.reshape(-1, 4),
        deltas.reshape(-1, 4),
        max_shape=meta['img_shape'] if clip else None).view(-1, nb, 4).expand(
            -1, t, 4)
    res.frame_bboxes = boxes
    res.bboxes = circumscribed_boxes(boxes)
    res.quality = quality if quality is not None else torch.ones_like(
        res.scores)
    res.params = params


def can_run_sparse(head: nn.Module, cfg: ConfigType) -> bool:
    """Whether the box and track towers can be evaluated at candidates."""
    return (cfg.get('sparse_towers', True) and supports_sparse(head.box_tower)
            and supports_sparse(head.track_tower))


def predict_candidates(head: nn.Module,
                       x: Sequence[Tensor],
                       batch_img_metas: List[dict],
                       cls_scores: Optional[List[Tensor]] = None,
                       cfg: OptConfigType = None) -> InstanceList:
    """Candidates of each clip of ``x`` (N*T frames), as
    ``CiCoClipHead.predict_by_feat`` gives them; with sparse towers the
    ``embeds`` are left to :func:`add_embeddings` (call it after NMS).

    Args:
        head (CiCoClipHead): the CPH.
        x (list[Tensor]): FPN levels (N*T, C, h, w).
        batch_img_metas (list[dict]): N*T frame metainfos.
        cls_scores (list[Tensor], optional): class maps of these frames
            (:func:`class_maps`), e.g. reused from the previous clip.
        cfg (dict, optional): default ``head.test_cfg``.
    """
    cfg = head.test_cfg if cfg is None else cfg
    if not can_run_sparse(head, cfg):
        return head.predict_by_feat(
            *head(x), batch_img_metas=batch_img_metas, cfg=cfg)
    t = head.clip_len
    if cls_scores is None:
        cls_scores = class_maps(head, x)
    sizes = [s.shape[-2:] for s in cls_scores]
    priors = torch.cat(
        head.prior_generator.grid_priors(sizes, device=x[0].device))
    results = []
    for c in range(cls_scores[0].shape[0] // t):
        res = select_candidates(head, cls_scores, priors, c, cfg)
        preds = [head.conv_reg, head.conv_coeff]
        dims = [4 * head.num_box_frames, head.num_params]
        if head.with_quality:
            preds.append(head.conv_quality)
            dims.append(1)
        outs = gather_tower_outputs(head.box_tower, preds, x, res, c, dims, t,
                                    head.num_base_priors)
        quality = outs[2][:, 0].sigmoid() if head.with_quality else None
        decode_candidates(head, res, outs[0], head.param_activation(outs[1]),
                          quality, priors, batch_img_metas[c * t])
        results.append(res)
    return results


def add_embeddings(head: nn.Module,
                   x: Sequence[Tensor],
                   res: InstanceData,
                   c: int = 0) -> InstanceData:
    """Tracking embeddings (L2-normalised) of the detections of clip ``c``,
    computed at their locations only (no-op if present)."""
    if 'embeds' in res:
        return res
    e = gather_tower_outputs(head.track_tower, [head.conv_track], x, res, c,
                             [head.embed_dim], head.clip_len,
                             head.num_base_priors)[0]
    res.embeds = F.normalize(e, dim=1)
    return res


def gather_tower_outputs(tower: ClipConvTower, preds: List[nn.Conv2d],
                         x: Sequence[Tensor], res: InstanceData, c: int,
                         dims: List[int], t: int,
                         num_anchors: int) -> List[Tensor]:
    """Outputs of ``preds(tower(.))`` for the candidates of clip ``c``:
    per prediction conv (k, dim) at each candidate's frame and anchor.
    Per level, the tower runs densely when the candidates' patches would
    cost more than the whole map."""
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
            out[sel] = row.view(len(sel), num_anchors,
                                d)[torch.arange(len(sel)), ai]
    return outs
