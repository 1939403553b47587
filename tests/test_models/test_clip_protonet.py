"""CMH: prototype shapes, 2D/3D switch, crop geometry, padding, Eq. 5."""
import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.structures import InstanceData

from projects.cico.models.utils import (box_crop_regions, clip_ground_truth,
                                        expand_boxes)


def make_protonet(t=3, c=8, k=4, **kwargs):
    cfg = dict(
        type='ClipProtoNet',
        num_classes=3,
        in_channels=c,
        proto_channels=c,
        num_protos=k,
        clip_len=t)
    cfg.update(kwargs)
    return MODELS.build(cfg)


def fpn(n, c=8):
    torch.manual_seed(0)
    return (torch.randn(n, c, 8, 12), torch.randn(n, c, 4, 6),
            torch.randn(n, c, 2, 3), torch.randn(n, c, 1,
                                                 2), torch.randn(n, c, 1, 1))


@pytest.mark.parametrize('t', [1, 3, 5])
def test_prototype_shape(t):
    net = make_protonet(t=t)
    protos = net(fpn(2 * t))[0]
    assert protos.shape == (2, 4, t, 16, 24)  # stride 4 of a 64x96 input
    assert (protos >= 0).all()  # final ReLU


def test_prototype_relu_switch():
    net = make_protonet()
    plain = make_protonet(proto_relu=False)
    plain.load_state_dict(net.state_dict())
    net.eval(), plain.eval()
    with torch.no_grad():
        with_relu, without = net(fpn(3))[0], plain(fpn(3))[0]
    assert (without < 0).any()  # the raw 1x1 conv output
    assert torch.equal(with_relu, without.clamp(min=0))


def test_2d_3d_switch():
    assert isinstance(make_protonet().proto_tower.convs[0].conv, nn.Conv3d)
    assert isinstance(
        make_protonet(is_3d=False).proto_tower.convs[0].conv, nn.Conv2d)
    assert isinstance(make_protonet(t=1).proto_tower.convs[0].conv, nn.Conv2d)


def test_crop_region_and_expand():
    crop = box_crop_regions(torch.tensor([[4., 4., 8., 10.]]), (16, 24))[0]
    rows, cols = crop.nonzero(as_tuple=True)
    # YOLACT geometry: 1 px padding, [x1 - 1, x2 + 1)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (3, 10, 3, 8)
    out = expand_boxes(torch.tensor([[10., 10., 20., 14.]]), 1.5, (8., 8.))
    assert out.tolist() == [[7.5, 8., 22.5, 16.]]  # w 15, h max(6, 8)


def test_lincomb_mask_is_eq5():
    net = make_protonet(k=2)
    protos = torch.zeros(2, 3, 16, 24)
    protos[0, :, 2:6, 2:6] = 4.  # prototype 0: a square
    protos[1] = 1.
    coeff = torch.tensor([[1., -1.]])
    box = torch.tensor([[0., 0., 24., 16.]])
    logits, crop = net.clip_mask_logits(protos, coeff, box, 1.0)
    assert logits.shape == (1, 3, 16, 24)
    assert torch.allclose(logits[0, :, 3, 3], torch.full((3, ), 3.))
    assert torch.allclose(logits[0, :, 10, 10], torch.full((3, ), -1.))
    assert crop.all()


def test_predict_maps_boxes_with_the_padded_stride():
    net = make_protonet(k=1, test_crop_expand=1.0)
    protos = torch.ones(1, 1, 3, 16, 24)  # sigmoid(1) everywhere
    # img 60x90 padded to 64x96: prototypes cover 64x96, stride exactly 4
    metas = [dict(img_shape=(60, 90), batch_input_shape=(64, 96))] * 3
    res = InstanceData(
        bboxes=torch.tensor([[8., 8., 40., 24.]]), params=torch.ones(1, 1))
    out = net.predict_by_feat(protos, metas, [res])[0]
    m = out.mask_probs[0, 0] > 0
    rows, cols = m.nonzero(as_tuple=True)
    # box /4 = (2, 2, 10, 6), plus the 1 px crop padding
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (1, 6, 1, 10)


def test_the_heads_mask_thr_is_the_one_threshold():
    """Probabilities sigmoid(+-1) = 0.731 / 0.269 and 0.5 (logit 0): the
    ``masks`` the head gives, at the prototype resolution and at the
    original size, are those above its ``mask_thr``, whatever it is."""
    protos = torch.zeros(1, 1, 3, 16, 24)
    protos[..., :8] = 1.
    protos[..., 16:] = -1.
    metas = [
        dict(
            img_shape=(64, 96), batch_input_shape=(64, 96), ori_shape=(32, 48))
    ] * 3
    for thr, cols in ((0.5, 8), (0.25, 24), (0.75, 0)):
        net = make_protonet(k=1, test_crop_expand=1.0, mask_thr=thr)
        res = InstanceData(
            bboxes=torch.tensor([[0., 0., 96., 64.]]), params=torch.ones(1, 1))
        out = net.predict_by_feat(protos, metas, [res])[0]
        # (0.5, 0.731, 0.269 by column block; 0.5 is not above 0.5)
        assert out.masks.shape == (1, 3, 16, 24)
        assert out.masks[0, 0].sum(1).tolist() == [cols] * 16
        big = net.masks_at_original_size(out.mask_probs[:, 0], metas[0])
        assert big.shape == (1, 32, 48)
        assert big[0, 16].sum().item() == pytest.approx(cols * 2, abs=1)


def test_loss_falls_when_masks_match(clip_factory):
    net = make_protonet(k=2, train_crop_expand=1.0)
    boxes = [(8, 8, 40, 40)] * 3
    clip = clip_factory(3, objects=[dict(id=1, label=0, boxes=boxes)])
    gts = [f.gt_instances for f in clip['data_samples']]
    metas = [dict(batch_input_shape=(64, 96))] * 3
    protos = torch.zeros(1, 2, 3, 16, 24)
    protos[0, 0, :, 2:10, 2:10] = 1.  # exactly the object at stride 4
    protos[0, 1] = 1.
    pos = InstanceData(
        frame_inds=torch.tensor([1]),
        gt_inds=torch.tensor([0]),
        params=torch.tensor([[20., -10.]]))  # +10 inside, -10 outside
    good = net.loss_by_feat(protos, gts, metas, [pos])['loss_mask']
    pos.params = torch.tensor([[-20., 10.]])  # inverted
    bad = net.loss_by_feat(protos, gts, metas, [pos])['loss_mask']
    assert good.item() < 0.01 and bad.item() > 1000 * good.item()
    empty = InstanceData(
        frame_inds=torch.zeros(0, dtype=torch.long),
        gt_inds=torch.zeros(0, dtype=torch.long),
        params=torch.zeros(0, 2))
    assert net.loss_by_feat(protos, gts, metas, [empty])['loss_mask'] == 0


def test_crop_regions_equal_mmdet_yolact_crop():
    """The CMH's crop helper selects exactly the pixels of mmdet's
    ``YOLACTProtonet.crop_single`` (1 px padding), boxes of any order."""
    from mmdet.models.dense_heads import YOLACTProtonet
    yolact = YOLACTProtonet(num_classes=1)
    torch.manual_seed(0)
    boxes = torch.rand(200, 4) * torch.tensor([30., 20., 30., 20.]) - 3
    boxes[:100, 2:] = boxes[:100, :2] + torch.rand(100, 2) * 12
    ours = box_crop_regions(boxes, (16, 24))
    rel = boxes / torch.tensor([24., 16., 24., 16.])
    theirs = yolact.crop_single(
        torch.ones(16, 24, 200), rel, padding=1).permute(2, 0, 1) > 0
    assert ours.any() and not ours.all()
    assert torch.equal(ours, theirs)


def test_loss_and_predict_through_mmdet_call_path(clip_factory):
    """``BaseMaskHead.loss`` with the CPH's positives and
    ``BaseMaskHead.predict`` with its candidates (mmdet's call path)."""
    from test_clip_head import frame_samples, make_head
    cph = make_head(t=3)  # 6 mask parameters per anchor
    net = make_protonet(k=6)
    samples = frame_samples(clip_factory(3))
    x = fpn(3)
    metas = [s.metainfo for s in samples]
    _, positives = cph.loss_clips(x, metas, clip_ground_truth(samples, 3))
    losses = net.loss(x, samples, positive_infos=positives)
    # the same loss from the clip ground truth built once (the detector's)
    same = net.loss_clips(x, metas, clip_ground_truth(samples, 3), positives)
    assert same['loss_mask'].item() == pytest.approx(
        losses['loss_mask'].item())
    assert losses['loss_mask'] > 0
    losses['loss_mask'].backward()
    assert net.proto_out.weight.grad.abs().sum() > 0
    net.eval(), cph.eval()
    with torch.no_grad():
        dets = cph.predict(x, samples)
        out = net.predict(x, samples, rescale=True, results_list=dets)[0]
    k = len(out)
    assert k > 0
    assert out.mask_probs.shape == (k, 3, 16, 24)
    assert out.masks.shape == (k, 3, 64, 96) and out.masks.dtype == torch.bool
    # the original-size masks are the resized probabilities > 0.5
    probs = torch.nn.functional.interpolate(
        out.mask_probs[:, 1][None], (64, 96), mode='bilinear')[0]
    assert torch.equal(out.masks[:, 1], probs > 0.5)


def test_truncated_crop_bounds_by_hand():
    """Box x 2.6..6.4, y 1.5..3.5 on a 16 x 24 map. Float bounds keep
    columns 1.6 <= c < 7.4 (2..7) and rows 0.5 <= r < 4.5 (1..4); the
    authors truncate first: columns 2 - 1 <= c < 6 + 1 (1..6), rows
    1 - 1 <= r < 3 + 1 (0..3). A box beyond the map is clipped to it
    before truncation."""
    box = torch.tensor([[2.6, 1.5, 6.4, 3.5]])

    def bounds(crop):
        rows, cols = crop[0].nonzero(as_tuple=True)
        return rows.min(), rows.max(), cols.min(), cols.max()

    assert bounds(box_crop_regions(box, (16, 24))) == (1, 4, 2, 7)
    assert bounds(box_crop_regions(box, (16, 24),
                                   truncate=True)) == (0, 3, 1, 6)
    outside = torch.tensor([[-3.5, 10.2, 30., 20.]])
    assert bounds(box_crop_regions(outside, (16, 24),
                                   truncate=True)) == (9, 15, 0, 23)


def test_box_rounding_switch_changes_crop_and_loss_area():
    """box_rounding='truncate': crop as above and the loss area from the
    truncated corners: box (2.6, 1.5, 6.4, 3.5) -> (6 - 2) x (3 - 1) = 8
    instead of 3.8 x 2.0 = 7.6; a box reaching beyond the map is clipped
    first: (-2, 14.5, 25.3, 17) -> 24 x (16 - 14) = 48."""
    ours, authors = make_protonet(), make_protonet(box_rounding='truncate')
    boxes = torch.tensor([[2.6, 1.5, 6.4, 3.5], [-2., 14.5, 25.3, 17.]])
    assert ours.box_area(boxes,
                         (16, 24)).tolist() == pytest.approx([7.6, 27.3 * 2.5])
    assert authors.box_area(boxes, (16, 24)).tolist() == [8., 48.]
    protos = torch.zeros(4, 3, 16, 24)
    params = torch.zeros(1, 4)
    _, crop = authors.clip_mask_logits(protos, params, boxes[:1], 1.0)
    rows, cols = crop[0].nonzero(as_tuple=True)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (0, 3, 1, 6)
    with pytest.raises(ValueError, match='box_rounding'):
        make_protonet(box_rounding='round')
