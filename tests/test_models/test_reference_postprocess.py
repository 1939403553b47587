"""The authors' per-clip post-processing (reference mode,
``docs/reference_implementation.md#post-processing``) on constructed
detections with hand-computed results, and the detector's switch."""
import pytest
import torch
from mmdet.registry import MODELS, TASK_UTILS
from mmengine.structures import InstanceData

from projects.cico.models.task_modules.reference_postprocess import (
    filter_centres_outside, filter_near_duplicates, filter_small_masks,
    rank_by_rescored, reference_clip_nms, reference_postprocess,
    reference_similarity)
from projects.cico.utils.clip_layout import video_clip
from tests.test_models.test_cico import tiny_model_cfg


def boxes(*per_det):
    """(n, T, 4) from one list of T boxes per detection."""
    return torch.tensor(per_det, dtype=torch.float)


def test_filter_1_drops_near_duplicates_of_higher_ranked():
    """Ranked by quality x score: A (0.6 x 1) > B (0.9 x 0.5) > C (0.5 x
    0.8). B is A cut to 95 rows (mean IoU 0.95, circumscribed 0.95 -> 0.95
    > 0.9): dropped; C cut to 85 rows (0.85 with A, 85 / 95 = 0.895 with B):
    kept. Ranked by the raw score B would come first and drop A instead."""
    dets = InstanceData(
        scores=torch.tensor([0.6, 0.9, 0.5]),
        quality=torch.tensor([1.0, 0.5, 0.8]),
        frame_bboxes=boxes([[0, 0, 100, 100]] * 2, [[0, 0, 100, 95]] * 2,
                           [[0, 0, 100, 85]] * 2))
    ranked = rank_by_rescored(dets)
    assert ranked.rank_scores.tolist() == pytest.approx([0.6, 0.45, 0.4])
    kept = filter_near_duplicates(ranked, 0.9)
    assert kept.scores.tolist() == pytest.approx([0.6, 0.5])
    # at 0.85 C goes too (0.85 is not above 0.85, but 0.895 with B is)
    assert len(filter_near_duplicates(ranked, 0.96)) == 3
    assert filter_near_duplicates(ranked, 0.85).scores.tolist() == \
        pytest.approx([0.6])


def test_filter_1_mixes_frame_and_circumscribed_iou():
    """Frames [100, 80] rows vs [100, 100]: mean frame IoU 0.9,
    circumscribed IoU 1 -> 0.95, dropped; vs [100, 50]: 0.75 and 1 -> 0.875,
    kept."""
    a = [[0, 0, 100, 100]] * 2
    for other, n in (([[0, 0, 100, 100], [0, 0, 100,
                                          80]], 1), ([[0, 0, 100, 100],
                                                      [0, 0, 100, 50]], 2)):
        dets = InstanceData(
            scores=torch.tensor([0.9, 0.8]), frame_bboxes=boxes(a, other))
        assert len(filter_near_duplicates(rank_by_rescored(dets))) == n


def test_filter_2_box_centre_inside_in_half_the_frames():
    """Frame 100 x 200 (h x w). Need max(T // 2, 1) frames inside: 1 at T =
    3, 2 at T = 5."""
    inside, outside = [20, 20, 60, 60], [190, 0, 230, 10]  # cx 210 > 200
    below = [0, 90, 10, 120]  # cy 105 > 100
    t3 = InstanceData(
        scores=torch.tensor([0.3, 0.2, 0.1]),
        frame_bboxes=boxes([inside] * 3, [outside, inside, below],
                           [outside, below, outside]))
    # outside in 2 of 3 frames: still 1 inside -> kept; in none -> dropped
    assert filter_centres_outside(t3, (100, 200)).scores.tolist() == \
        pytest.approx([0.3, 0.2])
    t5 = InstanceData(
        scores=torch.tensor([0.3, 0.2]),
        frame_bboxes=boxes([outside, outside, inside, below, inside],
                           [outside, outside, below, inside, outside]))
    # 2 of 5 inside -> kept; 1 of 5 -> dropped
    assert filter_centres_outside(t5, (100, 200)).scores.tolist() == \
        pytest.approx([0.3])


def test_filter_3_mask_area_and_mask_to_box_ratio():
    """Masks 10 x 20 over a 40 x 80 input (fractions of 200 px and 3200
    px). Box [0, 0, 40, 40] covers 0.5 of the input, [0, 0, 8, 8] 0.02.
    P: 9 px (0.045 / 0.5 = 0.09) dropped; Q: 12 px (0.12) kept; R: 4 px in
    the small box (ratio 1 but 4 <= 5 px) dropped; S: 6 px in the big box
    (0.06) in frame 0, 3 px in the small box (0.75) in frame 1: each
    condition holds in some frame -> kept."""
    big, small = [0, 0, 40, 40], [0, 0, 8, 8]
    probs = torch.zeros(4, 2, 10, 20)
    for i, pixels in enumerate([(9, 9), (12, 12), (4, 4), (6, 3)]):
        for t, n in enumerate(pixels):
            probs[i, t].view(-1)[:n] = 0.9
    dets = InstanceData(
        scores=torch.tensor([0.4, 0.3, 0.2, 0.1]),
        mask_probs=probs,
        masks=probs > 0.5,  # the mask head's
        frame_bboxes=boxes([big] * 2, [big] * 2, [small] * 2, [big, small]))
    kept = filter_small_masks(dets, (40, 80))
    assert kept.scores.tolist() == pytest.approx([0.3, 0.1])


def nms_dets():
    """Five detections, T = 3, masks 10 x 10 (see the NMS tests)."""
    probs = torch.zeros(5, 3, 10, 10)
    probs[0, :, :5, :5] = 1  # a
    probs[1, 0, :5, :5] = 1  # b: = a in frame 0, disjoint in frame 1,
    probs[1, 1, 5:, 5:] = 1  # empty in frame 2
    probs[2, :, :5, 5:] = 1  # c
    probs[3, :, :5, 5:] = 1  # d (= c, boxes far apart)
    probs[4, :, 5:, :5] = 1  # e
    a = [[0, 0, 20, 20]] * 3
    b = [[10, 0, 30, 20], [20, 0, 40, 20], [0, 0, 20, 20]]
    return InstanceData(
        cls_scores=torch.tensor([[0.5, 0.0], [0.9, 0.3], [0.0, 0.2],
                                 [0.0, 0.4], [0.6, 0.45]]),
        quality=torch.tensor([1.0, 0.5, 0.4, 0.3, 1.0]),
        scores=torch.tensor([0.5, 0.9, 0.2, 0.4, 0.6]),
        labels=torch.tensor([0, 0, 1, 1, 0]),
        mask_probs=probs,
        masks=probs > 0.5,
        frame_bboxes=boxes(a, b, [[100, 0, 120, 20]] * 3,
                           [[60, 0, 80, 20]] * 3, [[0, 60, 20, 80]] * 3))


def test_nms_similarity_mask_iou_above_0_9_forced_to_1():
    """a vs b, counted frames 0 and 1 (b's frame-2 mask is empty): box IoU
    1/3 and 0 -> 1/6 (frame 2's IoU 1 left out), circumscribed [0, 0, 20,
    20] vs [0, 0, 40, 20] -> 0.5, box_sim 1/12 + 1/4 = 1/3. Mask IoU 1 and
    0: mean 0.5, but frame 0 > 0.9 -> 1. sim = 1/6 + 1/2 = 2/3 (5/12
    unforced)."""
    sim = reference_similarity(nms_dets())
    assert sim[0, 1].item() == pytest.approx(2 / 3)
    assert sim[1, 0].item() == pytest.approx(2 / 3)
    unforced = reference_similarity(nms_dets(), mask_iou_one=1.01)
    assert unforced[0, 1].item() == pytest.approx(5 / 12)
    # c vs d: same masks (IoU 1 -> 1), disjoint boxes: 0.5 * 0 + 0.5
    assert sim[2, 3].item() == pytest.approx(0.5)


def test_class_aware_nms_raw_scores_and_order():
    """Rescored (raw x quality) per class:
    class 0: e 0.6, a 0.5, b 0.45 (c, d 0): b suppressed by a (2/3 > 0.5);
    class 1: e 0.45, b 0.15, d 0.12, c 0.08: c below 0.1, d kept (sim with
    c is 0.5, not above; c is lower ranked anyway).
    Output: (e, 0) 0.6, (a, 0) 0.5, (e, 1) 0.45, (d, 1) 0.4, (b, 1) 0.3,
    by the raw score (rescored order would put b before d); e survives
    under both classes; b is kept under class 1 only."""
    out = reference_clip_nms(nms_dets())
    assert out.scores.tolist() == pytest.approx([0.6, 0.5, 0.45, 0.4, 0.3])
    assert out.labels.tolist() == [0, 0, 1, 1, 1]
    assert out.quality.tolist() == pytest.approx([1.0, 1.0, 1.0, 0.3, 0.5])
    assert out.rank_scores.tolist() == pytest.approx(
        [0.6, 0.5, 0.45, 0.12, 0.15])
    # without the forced mask IoU, a and b are 5/12 apart: b also survives
    # under class 0, and a threshold above 2/3 keeps it too
    unforced = reference_clip_nms(nms_dets(), dict(mask_iou_one=1.01))
    assert unforced.scores.tolist() == pytest.approx(
        [0.9, 0.6, 0.5, 0.45, 0.4, 0.3])
    loose = reference_clip_nms(nms_dets(), dict(nms_iou_thr=0.7))
    assert loose.scores.tolist()[0] == pytest.approx(0.9)


def test_nms_without_class_scores_uses_labels():
    dets = nms_dets()
    del dets.cls_scores
    out = reference_clip_nms(dets)
    # class 0: e 0.6, a 0.5 (b 0.45 suppressed); class 1: d 0.12 (c 0.08)
    assert out.scores.tolist() == pytest.approx([0.6, 0.5, 0.4])
    assert out.labels.tolist() == [0, 0, 1]


def predict(model, frames, postprocess):
    model.postprocessor = TASK_UTILS.build(dict(type=postprocess))
    meta = dict(img_shape=(64, 96), batch_input_shape=(64, 96))
    with torch.no_grad():
        x = model.extract_feat(frames)
        model.stream.start_clip(
            video_clip(3, 0, 3, 1), [dict(meta, frame_id=k) for k in range(3)])
        return model.predict_clip(x, [meta] * 3)


def test_detector_switch():
    """A tiny CiCo-Yolact with confident classes (class bias 1): the
    reference mode reports raw class probabilities in descending order,
    detections under several classes and no cap (223 rows from 70
    candidates here), every mask passing filter 3; the default keeps one row
    per candidate, at most 100, ordered by quality x score (55 here)."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_model_cfg(3)).eval()
    torch.nn.init.constant_(model.bbox_head.conv_cls.bias, 1.)
    frames = torch.rand(3, 3, 64, 96)
    ours = predict(model, frames, 'ClipNMSPostProcessor')
    ref = predict(model, frames, 'ReferencePostProcessor')
    assert (ref.scores[:-1] >= ref.scores[1:]).all()
    rows = torch.arange(len(ref))
    assert torch.equal(ref.scores, ref.cls_scores[rows, ref.labels])
    assert (ref.rank_scores > 0.1).all()
    assert torch.allclose(ref.rank_scores, ref.scores * ref.quality)
    assert ((ref.masks.flatten(2).sum(-1) > 5).any(1)).all()
    assert ref.embeds.shape == (len(ref), model.bbox_head.embed_dim)
    candidate = ref.frame_inds * 10**6 + ref.flat_anchors
    assert len(ref) > 100 and candidate.unique().numel() < len(ref)
    assert 0 < len(ours) <= 100
    mine = ours.frame_inds * 10**6 + ours.flat_anchors
    assert mine.unique().numel() == len(ours)
    assert not (ours.scores[:-1] >= ours.scores[1:]).all()


def test_filter_2_uses_the_padded_input():
    """A 360 x 640 frame padded to 384 x 640: a candidate whose box centre
    is at y = 370 in every frame (below the frame, inside the padding) is
    kept, as by the authors, whose boxes are relative to the padded input;
    one at y = 390 is dropped."""
    low, out = [300, 350, 340, 390], [300, 370, 340, 410]
    dets = InstanceData(
        scores=torch.tensor([0.9, 0.8]),
        labels=torch.tensor([0, 0]),
        quality=torch.ones(2),
        frame_bboxes=boxes([low] * 3, [out] * 3))
    kept = []

    def segment(d):
        kept.append(d.scores.tolist())
        d.mask_probs = torch.zeros(len(d), 3, 96, 160)
        d.masks = d.mask_probs > 0.5
        return d

    reference_postprocess(dets, segment, (360, 640), (384, 640))
    assert kept == [pytest.approx([0.9])]


def test_nms_permutes_only_the_rows_of_the_circumscribed_iou():
    """X (candidate 0) and Y (candidate 1): same class, far-apart boxes,
    identical masks (mask IoU 1). Ranked Y before X, the authors pair rank
    0 (Y) with candidate 1 (Y itself) in the circumscribed-box term: 0.25 x
    0 + 0.25 x 1 + 0.5 x 1 = 0.75 > 0.5, X suppressed, where the fully
    permuted similarity is 0.5 and would keep it. Ranked X before Y, the
    term pairs X with candidate 1 (Y): 0.5, both kept."""
    probs = torch.zeros(2, 3, 10, 10)
    probs[:, :, :5, :5] = 1

    def dets(score_x, score_y):
        return InstanceData(
            scores=torch.tensor([score_x, score_y]),
            labels=torch.tensor([0, 0]),
            quality=torch.ones(2),
            mask_probs=probs.clone(),
            masks=probs > 0.5,
            frame_bboxes=boxes([[100, 0, 120, 20]] * 3, [[60, 0, 80, 20]] * 3))

    assert reference_similarity(dets(0.3, 0.6))[0, 1].item() == \
        pytest.approx(0.5)
    y_first = reference_clip_nms(dets(0.3, 0.6))
    assert y_first.scores.tolist() == pytest.approx([0.6])
    x_first = reference_clip_nms(dets(0.6, 0.3))
    assert x_first.scores.tolist() == pytest.approx([0.6, 0.3])
