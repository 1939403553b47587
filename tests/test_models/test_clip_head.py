"""CPH: switches, output shapes for several T, losses and targets."""
import math

import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import ConfigDict

from projects.cico.models.dense_heads import clip_predictor
from projects.cico.models.utils import (batch_clip_instances,
                                        build_clip_instances,
                                        clip_ground_truth)

TRAIN_CFG = ConfigDict(
    assigner=dict(
        type='CircumscribedBoxAssigner',
        window=1,
        pos_iou_thr=0.5,
        neg_iou_thr=0.4,
        min_pos_iou=0.,
        gt_max_assign_all=False),
    sampler=dict(type='PseudoSampler'),
    allowed_border=-1,
    pos_weight=-1,
    neg_pos_ratio=3)


def make_head(t=3, c=8, **kwargs):
    cfg = dict(
        type='CiCoClipHead',
        num_classes=4,
        in_channels=c,
        feat_channels=c,
        stacked_convs=2,
        clip_len=t,
        num_params=6,
        embed_dim=5,
        train_cfg=TRAIN_CFG,
        test_cfg=ConfigDict(score_thr=0.0, nms_pre=50))
    cfg.update(kwargs)
    head = MODELS.build(cfg)
    head.init_weights()
    return head


def feats(n_frames, c=8, sizes=((8, 12), (4, 6), (2, 3), (1, 2), (1, 1))):
    torch.manual_seed(0)
    return tuple(torch.randn(n_frames, c, h, w) for h, w in sizes)


def test_default_switches_module_types():
    head = make_head()
    assert isinstance(head.cls_tower.convs[0].conv, nn.Conv2d)
    assert isinstance(head.box_tower.convs[0].conv, nn.Conv3d)
    assert isinstance(head.track_tower.convs[0].conv, nn.Conv3d)
    all3d = make_head(cls_tower_3d=True)
    assert isinstance(all3d.cls_tower.convs[0].conv, nn.Conv3d)
    # parameter count: one 2D -> 3D switch adds 2 layers x 8*8*(27-9)
    n = sum(p.numel() for p in make_head().parameters())
    n3 = sum(p.numel() for p in all3d.parameters())
    assert n3 - n == 2 * 8 * 8 * 18


@pytest.mark.parametrize('t', [1, 2, 3, 5])
def test_output_shapes(t):
    head = make_head(t=t)
    cls, reg, coeff, quality, embed = head(feats(2 * t))
    a = 3
    assert cls[0].shape == (2 * t, a * 4, 8, 12)
    assert reg[0].shape == (2 * t, a * 4 * t, 8, 12)
    assert coeff[0].shape == (2 * t, a * 6, 8, 12)
    assert coeff[0].abs().max() <= 1
    assert quality[0].shape == (2 * t, a, 8, 12)
    e = embed[0].view(2 * t, a, 5, 8, 12)
    assert torch.allclose(e.norm(dim=2), torch.ones(2 * t, a, 8, 12))


def test_mask_parameter_activation_switch():
    head = make_head()
    linear = make_head(param_act=None)
    linear.load_state_dict(head.state_dict())
    with torch.no_grad():
        for h in (head, linear):
            h.conv_coeff.weight.mul_(100)  # outputs well beyond tanh's range
        coeff = head(feats(3))[2][0]
        raw = linear(feats(3))[2][0]
    assert raw.abs().max() > 1
    assert torch.allclose(coeff, raw.tanh())
    with pytest.raises(ValueError, match="param_act must be 'tanh' or None"):
        make_head(param_act='relu')


def metas(n_frames, h=64, w=96):
    return [
        dict(img_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w))
        for _ in range(n_frames)
    ]


def frame_samples(clip, h=64, w=96):
    """The T frame ``DetDataSample``s of a packed clip, as the detector
    hands them to its heads (padded input shape in the metainfo)."""
    frames = list(clip['data_samples'])
    for f in frames:
        f.set_metainfo(
            dict(img_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w)))
    return frames


def frame_gts(clip):
    """The T frames' ``gt_instances`` of a packed clip."""
    return [f.gt_instances for f in clip['data_samples']]


def clip_gt(clip):
    """The clip ground truth of a packed clip (Eq. 4 boxes, masks)."""
    return build_clip_instances(frame_gts(clip))


def test_loss_with_objects_and_4t_targets(clip_factory):
    t = 3
    head = make_head(t=t)
    objects = [
        dict(
            id=1,
            label=2,
            boxes=[(8, 8, 40, 40), (12, 8, 44, 40), (16, 8, 48, 40)])
    ]
    clip = clip_factory(t, objects=objects)
    samples = frame_samples(clip)
    losses = head.loss(feats(t), samples)  # mmdet's call path
    assert set(losses) == {
        'loss_cls', 'loss_bbox', 'loss_diou', 'loss_quality', 'loss_track'
    }
    assert all(torch.isfinite(v) for v in losses.values())
    # the detector's path: the clip ground truth built once, the positives
    # returned with the same losses
    clip_gts = clip_ground_truth(samples, t)
    same, infos = head.loss_clips(
        feats(t), [s.metainfo for s in samples], clip_gts)
    assert {
        k: v.item()
        for k, v in same.items()
    } == pytest.approx({
        k: v.item()
        for k, v in losses.items()
    })
    assert len(infos) == 1  # one clip
    pos = infos[0]
    assert len(pos) > 0
    assert set(pos.frame_inds.tolist()) <= {0, 1, 2}
    assert (pos.gt_inds == 0).all() and (pos.clip_inds == 0).all()
    assert pos.params.shape == (len(pos), 6)


def test_targets_decode_to_the_gt_boxes_of_every_frame(clip_factory):
    """The 4T regression targets of a positive anchor are the object's
    boxes in all T frames: a prediction equal to them has zero box loss."""
    t = 3
    head = make_head(t=t)
    boxes = [(8, 8, 40, 40), (12, 8, 44, 40), (16, 8, 48, 40)]
    clip = clip_factory(t, objects=[dict(id=1, label=0, boxes=boxes)])
    x = feats(t)
    outs = list(head(x))
    # replace the box predictions by the exact targets at every anchor
    featmap_sizes = [f.shape[-2:] for f in x]
    anchors = head.prior_generator.grid_priors(featmap_sizes, device='cpu')
    reg = []
    for lvl, anc in enumerate(anchors):
        h, w = featmap_sizes[lvl]
        tgt = torch.stack([
            head.bbox_coder.encode(
                anc,
                torch.tensor(b, dtype=torch.float).expand_as(anc))
            for b in boxes
        ], 1).reshape(h, w, 3 * 4 * t)  # (h*w*A, T, 4) -> (h, w, A*4T)
        reg.append(tgt.permute(2, 0, 1)[None].expand(t, -1, -1, -1))
    outs[1] = reg
    losses = head.loss_by_feat(*outs, frame_gts(clip), metas(t))
    assert losses['loss_bbox'].item() == pytest.approx(0, abs=1e-5)
    assert losses['loss_diou'].item() == pytest.approx(0, abs=1e-4)


def test_no_positive_gives_finite_zero_losses(clip_factory):
    t = 3
    head = make_head(t=t)
    samples = frame_samples(clip_factory(t, objects=[]))
    losses, infos = head.loss_clips(
        feats(t), [s.metainfo for s in samples], clip_ground_truth(samples, t))
    for k in ('loss_bbox', 'loss_diou', 'loss_quality', 'loss_track'):
        assert losses[k].item() == 0, k
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0
    total = sum(losses.values())
    total.backward()  # the graph exists
    assert [len(p) for p in infos] == [0]


def test_ohem_softmax_variant(clip_factory):
    head = make_head(
        loss_cls=dict(
            type='CrossEntropyLoss',
            use_sigmoid=False,
            reduction='none',
            loss_weight=1.0))
    assert head.cls_out_channels == 5  # + background
    assert head.use_ohem  # softmax CE is trained with OHEM
    assert not make_head().use_ohem  # the focal loss is not
    losses = head.loss(feats(3), frame_samples(clip_factory(3)))
    assert torch.isfinite(losses['loss_cls']) and losses['loss_cls'] > 0


def test_predict_pools_candidates_over_the_clip():
    t = 3
    head = make_head(t=t, test_cfg=ConfigDict(score_thr=0.0, nms_pre=40))
    res = clip_predictor.predict_candidates(head, feats(t), metas(t))[0]
    assert len(res) == 40
    assert res.frame_bboxes.shape == (40, t, 4)
    assert res.bboxes.shape == (40, 4)
    circ = torch.cat([
        res.frame_bboxes[..., :2].min(1)[0], res.frame_bboxes[...,
                                                              2:].max(1)[0]
    ], 1)
    assert torch.equal(res.bboxes, circ)
    assert set(res.frame_inds.tolist()) <= {0, 1, 2}
    assert (res.scores[:-1] >= res.scores[1:]).all()


def test_candidates_from_chosen_clip_frames_only():
    t = 3
    head = make_head(t=t, test_cfg=ConfigDict(score_thr=0.0, nms_pre=10**6))
    x, m = feats(t), metas(t)
    every = clip_predictor.predict_candidates(head, x, m)[0]
    head.test_cfg = ConfigDict(
        score_thr=0.0, nms_pre=10**6, candidate_frames=[1])
    mid = clip_predictor.predict_candidates(head, x, m)[0]
    # exactly the middle frame's anchors of the unrestricted candidates
    assert len(every) == 3 * len(mid) > 0
    assert set(mid.frame_inds.tolist()) == {1}
    from_mid = every.frame_inds == 1
    assert torch.equal(mid.flat_anchors.sort()[0],
                       every.flat_anchors[from_mid].sort()[0])
    assert torch.allclose(mid.scores.sort()[0],
                          every.scores[from_mid].sort()[0])
    head.test_cfg = ConfigDict(score_thr=0.0, candidate_frames=[3])
    with pytest.raises(
            ValueError,
            match=r'candidate_frames=\[3\]: need '
            r'frame positions in 0..2'):
        clip_predictor.predict_candidates(head, x, m)


def test_frame_level_box_head_regresses_its_own_frame(clip_factory):
    """regress_clip_boxes=False (Table 1a): 4 deltas per anchor, targets
    from the anchor's own frame, the box repeated over the clip."""
    t = 3
    head = make_head(t=t, regress_clip_boxes=False)
    assert head.conv_reg.out_channels == 3 * 4
    boxes = [(8, 8, 40, 40), (20, 8, 52, 40), (32, 8, 64, 40)]
    clip = clip_factory(t, objects=[dict(id=1, label=0, boxes=boxes)])
    x = feats(t)
    outs = list(head(x))
    sizes = [f.shape[-2:] for f in x]
    anchors = head.prior_generator.grid_priors(sizes, device='cpu')
    reg = []
    for lvl, anc in enumerate(anchors):
        h, w = sizes[lvl]
        per_frame = [
            head.bbox_coder.encode(
                anc,
                torch.tensor(b, dtype=torch.float).expand_as(anc)).reshape(
                    h, w, 3 * 4).permute(2, 0, 1) for b in boxes
        ]
        reg.append(torch.stack(per_frame))  # frame k predicts its own box
    outs[1] = reg
    losses = head.loss_by_feat(*outs, frame_gts(clip), metas(t))
    assert losses['loss_bbox'].item() == pytest.approx(0, abs=1e-5)
    res = head.predict_by_feat(
        *outs,
        batch_img_metas=metas(t),
        cfg=ConfigDict(score_thr=0., nms_pre=9))
    fb = res[0].frame_bboxes
    assert torch.equal(fb[:, 0], fb[:, 1]) and torch.equal(fb[:, 1], fb[:, 2])


def test_predict_through_mmdet_call_path(clip_factory):
    """``AnchorHead.predict`` (mmdet's path: forward + predict_by_feat)
    gives one result per clip, equal to the streaming predictor's, and
    ``rescale`` divides the boxes by the frames' scale factor."""
    t = 3
    head = make_head(t=t, test_cfg=ConfigDict(score_thr=0.0, nms_pre=20))
    head.eval()
    samples = frame_samples(clip_factory(t))
    for s in samples:
        s.set_metainfo(dict(scale_factor=(2.0, 2.0)))
    x = feats(t)
    with torch.no_grad():
        res = head.predict(x, samples, rescale=False)
        scaled = head.predict(x, samples, rescale=True)[0]
        streamed = clip_predictor.predict_candidates(
            head, x, [s.metainfo for s in samples])
        streamed = clip_predictor.add_embeddings(head, x, streamed[0])
    assert len(res) == 1 and len(res[0]) == 20
    res = res[0]
    assert res.params.shape == (20, 6) and res.embeds.shape == (20, 5)
    assert torch.allclose(scaled.frame_bboxes * 2, res.frame_bboxes)
    assert torch.allclose(scaled.bboxes * 2, res.bboxes)
    for key in ('scores', 'labels', 'frame_bboxes', 'params', 'embeds'):
        assert torch.allclose(
            res[key].float(), streamed[key].float(), atol=1e-5), key


def test_loss_and_predict_through_mmdet_call_path(clip_factory):
    t = 3
    head = make_head(t=t, test_cfg=ConfigDict(score_thr=0.0, nms_pre=7))
    losses, preds = head.loss_and_predict(
        feats(t), frame_samples(clip_factory(t)))
    assert torch.isfinite(sum(losses.values()))
    assert len(preds) == 1 and preds[0].frame_bboxes.shape == (7, t, 4)


def test_clip_batch_must_fit_clip_len(clip_factory):
    head = make_head(t=3)
    outs = head(feats(3))
    clip = clip_factory(2)
    with pytest.raises(
            ValueError,
            match='2 frame ground truths and 2 frame metas do not form clips '
            'of clip_len=3'):
        head.loss_by_feat(*outs, frame_gts(clip), metas(2))
    with pytest.raises(ValueError, match='3 frame maps and 2 frame metas'):
        head.clip_losses(*outs, metas(2), [])


# ------------------------------------------- the authors' training switches
def _one_positive(head, gt_box, anchor, quality_logit, input_shape):
    """``loss_boxes`` for one positive of a T = 1 clip whose deltas decode
    to the anchor itself."""
    from mmengine.structures import InstanceData
    pos = InstanceData(
        clip_inds=torch.tensor([0]),
        gt_inds=torch.tensor([0]),
        frame_inds=torch.tensor([0]))
    clip_gts = [InstanceData(frame_bboxes=torch.tensor([[gt_box]]))]
    return head.loss_boxes(
        torch.zeros(1, 4), torch.tensor([quality_logit]), pos, clip_gts,
        torch.tensor([anchor]), input_shape)


def _train_cfg(**kwargs) -> ConfigDict:
    cfg = ConfigDict(TRAIN_CFG)
    cfg.update(kwargs)
    return cfg


def test_box_iou_in_batch_normalized_coordinates_by_hand():
    """Predicted box (0, 0, 10, 10), object (10, 0, 20, 10) on a 100 x 50
    (W x H) batch. In pixels: IoU 0, enclosing diagonal^2 20^2 + 10^2 =
    500, centre distance^2 100: DIoU -0.2, loss 1.2. Normalised (x / 100,
    y / 50): diagonal^2 0.2^2 + 0.2^2 = 0.08, distance^2 0.01: DIoU -0.125,
    loss 1.125. The quality target is that DIoU: clamped to 0 by default,
    kept negative by the authors: BCE(logit 1, t) = 1 - t + log(1 + e^-1)
    (mmdet's CrossEntropyLoss would ignore a negative target: the
    authors' recipe uses QualityBCELoss)."""
    box, gt = [0., 0., 10., 10.], [10., 0., 20., 10.]
    ours = make_head(t=1)
    authors = make_head(
        t=1,
        loss_diou=dict(type='DIoULoss', eps=1e-7, loss_weight=1.0),
        loss_quality=dict(type='QualityBCELoss'),
        train_cfg=_train_cfg(
            box_iou_coords='batch_normalized', clamp_quality_target=False))
    lo = _one_positive(ours, gt, box, 1., (50, 100))
    la = _one_positive(authors, gt, box, 1., (50, 100))
    softplus = math.log1p(math.exp(-1))
    assert lo['loss_diou'].item() == pytest.approx(1.2, rel=1e-5)
    assert la['loss_diou'].item() == pytest.approx(1.125, rel=1e-5)
    assert lo['loss_quality'].item() == pytest.approx(1 + softplus, rel=1e-5)
    assert la['loss_quality'].item() == pytest.approx(
        1 + 0.125 + softplus, rel=1e-5)
    with pytest.raises(ValueError, match='box_iou_coords'):
        make_head(t=1, train_cfg=_train_cfg(box_iou_coords='relative'))
    with pytest.raises(ValueError, match='track_loss_avg'):
        make_head(t=1, train_cfg=_train_cfg(track_loss_avg='per_batch'))


def test_anchors_in_batch_padding_by_hand():
    """A 32 x 32 frame in a 64 x 64 batch, no object: every valid anchor is
    a negative of weight 1. mmdet's valid flags keep the locations inside
    the frame's own padded shape: P3 4 x 4, P4 2 x 2, P5-P7 1 each: 23
    locations x 3 anchors = 69; the authors' anchors cover the whole
    padded map: (64 + 16 + 4 + 1 + 1) x 3 = 258."""
    from mmengine.structures import InstanceData
    sizes = ((8, 8), (4, 4), (2, 2), (1, 1), (1, 1))
    meta = [
        dict(
            img_shape=(32, 32), pad_shape=(32, 32), batch_input_shape=(64, 64))
    ]
    gts = [
        InstanceData(
            bboxes=torch.zeros(0, 4),
            labels=torch.zeros(0, dtype=torch.long),
            instances_ids=torch.zeros(0, dtype=torch.long))
    ]
    for padding, expect in ((False, 69), (True, 258)):
        head = make_head(
            t=1, train_cfg=_train_cfg(anchors_in_batch_padding=padding))
        cls = head(feats(1, sizes=sizes))[0]
        targets = head.get_clip_targets(
            cls, meta, batch_clip_instances(gts, meta, 1, with_masks=False))
        assert targets['label_weights'].sum().item() == expect


def test_track_loss_divided_by_all_clips_by_hand():
    """One positive pair (orthogonal embeddings, same object) in clip 0 of
    2 clips: the diagonal pairs cost 0, the two others -log(0.5); mean
    over the 4 pairs x weight 5 = 2.5 log 2. Averaged over the clips with
    positives that is the loss; over all clips it is halved."""
    from mmengine.structures import InstanceData
    pos = InstanceData(
        clip_inds=torch.tensor([0, 0]), gt_inds=torch.tensor([0, 0]))
    clip_gts = [
        InstanceData(instances_ids=torch.tensor([7])),
        InstanceData(instances_ids=torch.tensor([8]))
    ]
    emb = torch.tensor([[1., 0.], [0., 1.]])
    zero = torch.zeros(())
    ours = make_head().loss_track_by_clip(emb, pos, clip_gts, zero)
    authors = make_head(train_cfg=_train_cfg(
        track_loss_avg='all_clips')).loss_track_by_clip(
            emb, pos, clip_gts, zero)
    assert ours.item() == pytest.approx(2.5 * math.log(2), rel=1e-6)
    assert authors.item() == pytest.approx(1.25 * math.log(2), rel=1e-6)


def test_prediction_layer_init_switch():
    """'normal': weights of std 0.01; 'xavier' (the authors'): uniform in
    +-sqrt(6 / (fan_in + fan_out)); zero biases except the class bias,
    -log 99 in both."""
    torch.manual_seed(0)
    normal = make_head(t=1, c=8)
    xavier = make_head(t=1, c=8, prediction_init='xavier')
    w = normal.conv_reg.weight
    assert w.std().item() == pytest.approx(0.01, rel=0.2)
    wx = xavier.conv_reg.weight  # (A*4, 8, 3, 3)
    bound = math.sqrt(6 / (8 * 9 + wx.shape[0] * 9))
    assert wx.abs().max().item() <= bound
    assert wx.abs().max().item() > 0.8 * bound
    for head in (normal, xavier):
        assert head.conv_reg.bias.abs().max().item() == 0
        assert torch.allclose(
            head.conv_cls.bias,
            torch.full_like(head.conv_cls.bias, -math.log(99)))
    with pytest.raises(ValueError, match='prediction_init'):
        make_head(prediction_init='kaiming')


def test_decoded_boxes_clipped_unless_switched_off():
    """An anchor (-10, -10, 10, 10) with zero deltas on a 64 x 96 frame:
    clipped to (0, 0, 10, 10) by default; kept as it is with
    test_cfg.clip_boxes_to_frame=False (the authors never clip)."""
    from mmengine.structures import InstanceData
    out = {}
    for clip in (True, False):
        head = make_head(
            t=1,
            test_cfg=ConfigDict(
                score_thr=0.0, nms_pre=5, clip_boxes_to_frame=clip))
        res = InstanceData(
            flat_anchors=torch.tensor([0]), scores=torch.tensor([0.9]))
        clip_predictor.decode_candidates(
            head, res, torch.zeros(1, 4), torch.zeros(1, 6), None,
            torch.tensor([[-10., -10., 10., 10.]]), dict(img_shape=(64, 96)))
        out[clip] = res.frame_bboxes[0, 0].tolist()
    assert out[True] == [0., 0., 10., 10.]
    assert out[False] == [-10., -10., 10., 10.]
