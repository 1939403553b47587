"""ReferenceClipTracker (the authors' tracker, a switch) against our
one-to-one ClipTracker on constructed clips, scores computed by hand
(docs/reference_implementation.md#tracker), and the detector emitting its
propagated lost tracks."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmdet.registry import DATASETS, MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import InstanceData

from projects.cico.models.trackers import TrackingClip
from projects.cico.models.utils.circumscribed_boxes import circumscribed_boxes
from tools.dataset_converters.synthvis_generator import generate_synthvis

H, W = 40, 60  # input image of the constructed clips: 2400 px
SMALL, LARGE = 10, 20  # box sides: 100 px (< 0.1 x 2400), 400 px (>= 240)


def box_at(x, y=10, s=SMALL):
    return [x, y, x + s, y + s]


def det(boxes, emb, label=0, score=0.9, visible=1.):
    """One clip detection: boxes per clip frame (masks fill them),
    embedding direction; ``params`` = [visible] for the fake mask head."""
    masks = torch.zeros(len(boxes), H, W, dtype=torch.bool)
    for k, b in enumerate(boxes):
        x1, y1, x2, y2 = [int(v) for v in b]
        masks[k, y1:y2, x1:x2] = True
    return dict(
        frame_bboxes=torch.tensor(boxes, dtype=torch.float),
        masks=masks,
        mask_probs=masks.float(),  # as the mask head gives them
        embeds=F.normalize(torch.tensor(emb, dtype=torch.float), dim=0),
        labels=label,
        scores=score,
        params=torch.tensor([visible]))


def clip(dets):
    """The detections of one clip, as the detector hands them over."""
    meta = dict(batch_input_shape=(H, W))
    if not dets:
        return InstanceData(
            metainfo=meta,
            frame_bboxes=torch.zeros(0, 3, 4),
            bboxes=torch.zeros(0, 4),
            masks=torch.zeros(0, 3, H, W, dtype=torch.bool),
            mask_probs=torch.zeros(0, 3, H, W),
            embeds=torch.zeros(0, 2),
            labels=torch.zeros(0, dtype=torch.long),
            scores=torch.zeros(0),
            params=torch.zeros(0, 1))
    res = InstanceData(
        metainfo=meta,
        **{
            k: torch.stack([d[k] for d in dets])
            for k in ('frame_bboxes', 'masks', 'mask_probs', 'embeds',
                      'params')
        })
    res.labels = torch.tensor([d['labels'] for d in dets])
    res.scores = torch.tensor([d['scores'] for d in dets])
    res.bboxes = circumscribed_boxes(res.frame_bboxes)
    return res


def fake_mask_fn(calls):
    """Stands in for the mask head: the stored circumscribed box filled,
    empty when the stored ``params`` say invisible."""

    def mask_fn(params, bboxes, crop_expand):
        calls.append((params.clone(), bboxes.clone(), crop_expand))
        probs = torch.zeros(len(params), 3, H, W)
        for i, (x1, y1, x2, y2) in enumerate(bboxes.long().tolist()):
            probs[i, :, y1:y2, x1:x2] = params[i, 0]
        return probs, probs > 0.5

    return mask_fn


def reference(**kwargs):
    return MODELS.build(dict(type='ReferenceClipTracker', **kwargs))


def step(trk, dets, c, frame_nums, calls=None):
    """One clip as the detector runs it: ``track`` with the clip's mask
    function (the fake one); every output row."""
    return trk.track(
        dets,
        TrackingClip(c, frame_nums,
                     fake_mask_fn([] if calls is None else calls)))


def kept(rows):
    """The detections among a clip's output rows."""
    return rows[~rows.is_lost]


def lost_of(rows):
    """The lost tracks among a clip's output rows; None without."""
    return rows[rows.is_lost] if bool(rows.is_lost.any()) else None


def ours(**kwargs):
    return MODELS.build(dict(type='ClipTracker', **kwargs))


def nums(c, step=3):
    """Frame numbers of clip c: step 3 -> no overlap, step 2 -> T_o = 1."""
    return torch.arange(c * step, c * step + 3)


def test_greedy_drops_a_detection_whose_track_is_taken():
    """Clips share frame 2 (IoU weights 1.0). Both detections sit on the
    track's box; d_lo has its embedding (S_emb 1) but score 0.1, d_hi
    cos 0.92 (S_emb 0.96) and score 0.9:
    d_lo: 1 + 0.1 x 0.1 + 1 + 1 + 0.3 = 3.31,
    d_hi: 0.96 + 0.1 x 0.9 + 1 + 1 + 0.3 = 3.35 -> d_hi goes first and
    takes the track; d_lo's best track is taken: dropped. Ours ignores the
    score and pairs one to one: d_lo (margin 3.3 - 1.4 = 1.9) beats d_hi
    (3.26 - 1.4 = 1.86) for the track, d_hi starts track 1."""
    track = det([box_at(10)] * 3, [1., 0.])
    d_lo = det([box_at(10)] * 3, [1., 0.], score=0.1)
    d_hi = det([box_at(10)] * 3, [0.92, (1 - 0.92**2)**0.5], score=0.9)
    ref, our = reference(), ours()
    for trk in (ref, our):
        step(trk, clip([track]), 0, nums(0, 2))
    # small boxes (100 < 240 px): the new-object IoUs are 0.15, with
    # overlap 0.5 + 0.1 s + (1 + 1) x 0.15 + 0.3 = 1.1 + 0.1 s
    scores = ref.match_scores(clip([d_lo, d_hi]), nums(1, 2))
    assert torch.allclose(scores, torch.tensor([[3.31, 1.11], [3.35, 1.19]]))
    out = step(ref, clip([d_lo, d_hi]), 1, nums(1, 2))
    assert out.instances_id.tolist() == [0]
    assert out.scores.tolist() == pytest.approx([0.9])  # d_hi kept
    assert ref.num_tracks == 1
    out = step(our, clip([d_lo, d_hi]), 1, nums(1, 2))
    assert out.instances_id.tolist() == [0, 1]  # none dropped
    assert our.num_tracks == 2


def test_greedy_assign_order():
    """Rows in order of their best score (0.9, 0.8, 0.7, 0.6); row 1's
    best entry 0 is taken by row 0 -> dropped; the new-object column
    (last) is never taken."""
    scores = torch.tensor([[0.9, 0.1, 0.5], [0.8, 0.2, 0.5], [0.1, 0.1, 0.7],
                           [0.3, 0.1, 0.6]])
    cols = reference().greedy_assign(scores)
    assert cols.tolist() == [0, -1, 2, 2]


def test_new_object_column_and_small_objects():
    """Score 0.5: 0.5 + 0.05 + a (0.5 + 0.5) iou + 0.3 with iou 0.3, or
    0.15 when the mean box area is < 0.1 of the 40 x 60 image."""
    trk = reference()
    dets = clip([
        det([box_at(0)] * 3, [1., 0.], score=0.5),
        det([box_at(0, s=LARGE)] * 3, [1., 0.], score=0.5)
    ])
    no_overlap = trk.new_object_scores(dets, overlap=False)
    overlap = trk.new_object_scores(dets, overlap=True)
    assert no_overlap.tolist() == pytest.approx([1.0, 1.15])
    assert overlap.tolist() == pytest.approx([1.15, 1.45])
    with pytest.raises(ValueError, match='batch_input_shape'):
        trk.new_object_scores(
            InstanceData(**{k: dets.get(k)
                            for k in dets.keys()}), False)


@pytest.mark.parametrize('side,ref_ids', [(SMALL, [0]), (LARGE, [1])])
def test_small_detection_joins_where_ours_starts_a_track(side, ref_ids):
    """No overlap: the track's last box vs the detection's first, shifted
    by 0.6 of the side: box and mask IoU 0.25 (40 / 160 or 160 / 640).
    Orthogonal embeddings, same class, score 0.5:
    s = 0.5 + 0.05 + 0.5 x 0.25 + 0.5 x 0.25 + 0.3 = 1.1. The new-object
    score is 1.0 for the small (100 px) box -> joins the track, 1.15 for
    the large one (400 px) -> new track. Ours (threshold 1.1 without the
    score, s = 1.05) starts a track either way."""
    shift = int(0.6 * side)
    track = det([box_at(0, s=side)] * 3, [1., 0.], score=0.5)
    moved = det([box_at(shift, s=side)] * 3, [0., 1.], score=0.5)
    ref, our = reference(), ours()
    for trk in (ref, our):
        step(trk, clip([track]), 0, nums(0))
    scores = ref.match_scores(clip([moved]), nums(1))
    new = 1.0 if side == SMALL else 1.15
    assert scores[0].tolist() == pytest.approx([1.1, new])
    assert kept(step(ref, clip([moved]), 1,
                     nums(1))).instances_id.tolist() == ref_ids
    assert step(our, clip([moved]), 1, nums(1)).instances_id.tolist() == [1]


def test_lost_track_is_output_for_max_3_15_over_t_clips():
    """T = 3: A (score 0.9) is seen in clip 0 only, B in every clip. The
    reference outputs A in clips 1..5 (max(3, 15 // 3) = 5) with score
    0.9 x 0.9^(3 c), its last box repeated and masks from its stored
    parameters and box (crop x1.2), regenerated in every clip (without
    overlap, for every entry before the matching); ours never does. A
    returns in clip 8: the reference re-identifies it (entries are never
    deleted), ours forgot it after 5 clips."""
    a = lambda: det([box_at(0)] * 3, [1., 0.])  # noqa: E731
    b = lambda: det([box_at(40)] * 3, [0., 1.], label=1, score=0.8)  # noqa
    ref, our = reference(), ours(num_clips_retain=5)
    for trk in (ref, our):
        step(trk, clip([a(), b()]), 0, nums(0))
    lost_scores = []
    for c in range(1, 8):
        calls = []
        rows = step(ref, clip([b()]), c, nums(c), calls)
        assert kept(rows).instances_id.tolist() == [1]
        lost = lost_of(rows)
        our_rows = step(our, clip([b()]), c, nums(c))
        assert our_rows.instances_id.tolist() == [1]
        assert not our_rows.is_lost.any()
        # A and B propagated to the clip (A's parameters say visible)
        assert len(calls) == 1 and calls[0][2] == 1.2
        assert calls[0][0].tolist() == [[1.], [1.]]
        assert calls[0][1].tolist() == [box_at(0), box_at(40)]
        if c > 5:
            assert lost is None
            continue
        assert lost.instances_id.tolist() == [0]
        assert lost.labels.tolist() == [0]
        assert lost.frame_bboxes.tolist() == [[box_at(0)] * 3]
        assert lost.bboxes.tolist() == [box_at(0)]
        assert lost.masks.shape == lost.mask_probs.shape == (1, 3, H, W)
        assert lost.masks[0, 0].sum() == SMALL * SMALL
        lost_scores.append(lost.scores.item())
        # the detection first, then the lost track
        assert rows.instances_id.tolist() == [1, 0] or c > 5
    assert ref.clips_to_output(3) == 5
    assert lost_scores == pytest.approx(
        [0.6561, 0.4782969, 0.3486784401, 0.2541865828, 0.1853020189])
    assert step(ref, clip([a(), b()]), 8, nums(8)).instances_id.tolist() \
        == [0, 1]
    assert step(our, clip([a(), b()]), 8, nums(8)).instances_id.tolist() \
        == [2, 1]


def test_clips_to_output():
    assert [reference().clips_to_output(t)
            for t in (1, 2, 3, 5, 6)] == [15, 7, 5, 3, 3]
    assert reference(num_clips_output=2).clips_to_output(3) == 2


def test_lost_track_score_and_mask_rules():
    """A lost track is output only with a decayed score > 0.1 and a mask
    of more than 3 px in a frame: score 0.3 -> 0.2187, 0.1594, 0.1162,
    then 0.0847 (clip 4: not output); an invisible one (empty mask) never.
    A clip without detections outputs nothing and ages nothing."""
    ref = reference()
    step(
        ref,
        clip([
            det([box_at(0)] * 3, [1., 0.], score=0.3),
            det([box_at(20)] * 3, [0., 1.], label=2, visible=0.),
            det([box_at(40)] * 3, [-1., 0.], label=1)
        ]), 0, nums(0))
    keep = lambda: det([box_at(40)] * 3, [-1., 0.], label=1)  # noqa: E731
    out = []
    for c in range(1, 6):
        if c == 2:  # empty clip
            assert len(step(ref, clip([]), c, nums(c))) == 0
            assert ref.lost_clips == {0: 1, 1: 1, 2: 0}
            continue
        lost = lost_of(step(ref, clip([keep()]), c, nums(c)))
        out.append(None if lost is None else (lost.instances_id.tolist(),
                                              lost.scores.tolist()))
    assert [o[0] if o else None for o in out] == [[0], [0], [0], None]
    assert [o[1][0] for o in out[:3]
            ] == pytest.approx([0.2187, 0.1594323, 0.1162261467])
    with pytest.raises(ValueError, match='TrackingClip.mask_fn'):
        ref.track(clip([keep()]), TrackingClip(6, nums(6)))  # none given


# ---------------------------------------- propagation of lost entries
# A moves right by 10 px per frame in clip 0: boxes [0, 10, 20, 30],
# [10, 10, 30, 30], [20, 10, 40, 30] (400 px each), circumscribed box
# [0, 10, 40, 30] (800 px). The fake mask head fills the stored box in
# every frame, so A's regenerated masks (800 px) differ from its last
# matched mask (400 px in its last frame).
A_BOXES = [box_at(x, s=LARGE) for x in (0, 10, 20)]
CIRC, LAST = [0, 10, 40, 30], [20, 10, 40, 30]


def moving_a(emb):
    return det(A_BOXES, emb, score=0.9)


def record_scores(trk):
    """Keep every ``match_scores`` result of ``trk``."""
    seen, scores = [], trk.match_scores

    def recorded(dets, frame_nums):
        seen.append(scores(dets, frame_nums))
        return seen[-1]

    trk.match_scores = recorded
    return seen


def lose_a_in_clip_1():
    """T_o = 1 (frames [0, 1, 2], [2, 3, 4], [4, 5, 6]): A and B in clip
    0, B only in clip 1. Returns the tracker and B's maker."""

    def b():
        return det([box_at(40)] * 3, [0., 1., 0.], label=1, score=0.8)

    ref = reference()
    step(ref, clip([moving_a([1., 0., 0.]), b()]), 0, nums(0, 2))
    calls = []
    rows = step(ref, clip([b()]), 1, nums(1, 2), calls)
    assert kept(rows).instances_id.tolist() == [1]
    # propagated after the matching: A only, from its circumscribed box
    assert [c[1].tolist() for c in calls] == [[CIRC]]
    return ref, b, lost_of(rows)


def test_lost_track_is_stored_back_and_matched_on_shared_frames():
    """Difference 1. A is lost in clip 1: its regenerated masks (800 px
    per frame), its last box in every frame (and as circumscribed box),
    clip 1's frames and its decayed score 0.9 x 0.9^3 = 0.6561 are stored
    back, and output. In clip 2 (shares frame 4 with clip 1) D, orthogonal
    embedding (0.5), score 0.9, box [0, 10, 40, 30] (800 px, not small)
    in every frame, is compared with A on frame 4: mask IoU 800 / 800 = 1,
    box IoU with the frozen box 400 / 800 = 0.5, doubled weights:
    0.5 + 0.09 + 2 x (0.5 x 1 + 0.5 x 0.5) + 0.3 = 2.39 against the
    new-object 0.5 + 0.09 + 2 x 1.0 x 0.3 + 0.3 = 1.49: D continues A.
    Without the store-back (A's masks, boxes and frames from clip 0, no
    shared frame: A's last frame vs D's first, box 0.5, mask 400 / 800 =
    0.5, single weights) A would score 0.5 + 0.09 + 0.5 + 0.3 = 1.39 and D
    would start a track. B (0.58, 3.38, new 1.18 small) keeps its track."""
    ref, b, lost = lose_a_in_clip_1()
    assert lost.instances_id.tolist() == [0]
    assert lost.scores.tolist() == pytest.approx([0.6561])
    assert lost.masks.flatten(2).sum(-1).tolist() == [[800] * 3]
    assert lost.frame_bboxes.tolist() == [[LAST] * 3]
    assert lost.bboxes.tolist() == [LAST]
    assert ref.get('masks', [0]).flatten(2).sum(-1).tolist() == [[800] * 3]
    assert ref.get('frame_bboxes', [0]).tolist() == [[LAST] * 3]
    assert ref.get('bboxes', [0]).tolist() == [LAST]
    assert ref.get('frame_nums', [0]).tolist() == [[2, 3, 4]]
    assert ref.get('scores', [0]).tolist() == pytest.approx([0.6561])
    d = det([CIRC] * 3, [0., 0., 1.], score=0.9)
    seen = record_scores(ref)
    out = step(ref, clip([d, b()]), 2, nums(2, 2))
    assert torch.allclose(
        seen[0], torch.tensor([[2.39, 0.59, 1.49], [0.58, 3.38, 1.18]]))
    assert out.instances_id.tolist() == [0, 1]


def test_lost_track_regenerated_from_its_last_box_after_one_clip():
    """Lost in clips 1 and 2: clip 1 regenerates A from its circumscribed
    box (800 px per frame), which then becomes its last box; clip 2 from
    that box [20, 10, 40, 30]: 400 px per frame (the circumscribed box
    again would give 800), score 0.9 x 0.9^6."""
    ref, b, _ = lose_a_in_clip_1()
    calls = []
    lost = lost_of(step(ref, clip([b()]), 2, nums(2, 2), calls))
    assert [c[1].tolist() for c in calls] == [[LAST]]
    assert lost.masks.flatten(2).sum(-1).tolist() == [[400] * 3]
    assert lost.scores.tolist() == pytest.approx([0.9**7])


def test_no_overlap_mask_iou_uses_the_regenerated_masks():
    """Difference 2, T_o = 0 (frames [0, 1, 2], [3, 4, 5]). Before the
    matching every entry is regenerated on the clip (A: 800 px per frame).
    D (box [0, 10, 40, 30], 800 px, in every frame; cos -0.6 with A:
    embedding 0.2; score 0.9): box IoU of A's last box with D's first
    400 / 800 = 0.5, mask IoU with the regenerated masks 1.0 in all three
    frames: 0.2 + 0.09 + 0.5 x 1 + 0.5 x 0.5 + 0.3 = 1.34 > new object
    0.5 + 0.09 + 1.0 x 0.3 + 0.3 = 1.19: D continues A. With A's last
    matched mask (400 px) against D's first frame the mask IoU would be
    0.5, A 1.09 < 1.19, and D a new track."""
    ref = reference()
    step(ref, clip([moving_a([1., 0.])]), 0, nums(0))
    calls, seen = [], record_scores(ref)
    d = det([CIRC] * 3, [-0.6, 0.8], score=0.9)
    assert step(ref, clip([d]), 1, nums(1), calls).instances_id.tolist() == [0]
    assert [c[1].tolist() for c in calls] == [[CIRC]]
    assert seen[0].tolist() == [pytest.approx([1.34, 1.19])]


def test_no_overlap_box_iou_counts_empty_masks():
    """Without overlap the authors' box IoU (last box vs first) has no
    mask condition: D's box equals A's, its first-frame mask is empty, its
    other two fill the box (400 px): box IoU 1, mask IoU 1 over frames 1
    and 2, 1 + 0.09 + 0.5 + 0.5 + 0.3 = 2.39 (with the mask condition on
    the box it would be 0 and the mask IoU, first frame only, 0: 1.39)."""
    ref = reference()
    step(ref, clip([det([box_at(0, s=LARGE)] * 3, [1., 0.])]), 0, nums(0))
    d = det([box_at(0, s=LARGE)] * 3, [1., 0.], score=0.9)
    d['masks'][0] = False
    seen = record_scores(ref)
    assert step(ref, clip([d]), 1, nums(1)).instances_id.tolist() == [0]
    assert seen[0].tolist() == [pytest.approx([2.39, 1.19])]


def test_padding_copies_are_compared_as_their_frame():
    """The authors' last clip [6, 6, 6] after [4, 5, 6]: every copy of
    frame 6 is compared with the entry's frame 6. D equals A in copies 0
    and 1 and is shifted by 10 px in copy 2 (IoU 200 / 600 = 1/3): box and
    mask IoU (1 + 1 + 1/3) / 3 = 7/9, doubled weights: 1 + 0.09 + 14/9 +
    0.3 = 2.9456; copy 0 alone (padding numbered -1) would give 3.39."""
    ref = reference()
    a = det([box_at(0, s=LARGE)] * 3, [1., 0.])
    step(ref, clip([a]), 0, torch.tensor([4, 5, 6]))
    d = det(
        [box_at(0, s=LARGE)] * 2 + [box_at(10, s=LARGE)], [1., 0.], score=0.9)
    scores = ref.match_scores(clip([d]), torch.tensor([6, 6, 6]))
    assert scores[0, 0].item() == pytest.approx(1.39 + 14 / 9)
    scores = ref.match_scores(clip([d]), torch.tensor([6, -1, -1]))
    assert scores[0, 0].item() == pytest.approx(3.39)


# ------------------------------------------------------------- detector
def tiny_model_cfg(tracker):
    m = copy.deepcopy(
        Config.fromfile('configs/cico_yolact_r18_synthvis.py').model)
    m.neck.out_channels = 16
    for head in (m.bbox_head, m.mask_head):
        head.in_channels = 16
    m.bbox_head.feat_channels = 16
    m.mask_head.proto_channels = 16
    m.tracker = tracker
    return m


@pytest.fixture(scope='module')
def synthvis_clips(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthvis'))
    generate_synthvis(
        root,
        train_videos=1,
        val_videos=1,
        frames=(6, 6),
        size=(96, 160),
        seed=0)
    load = [
        dict(type='LoadImageFromFile'),
        dict(type='LoadTrackAnnotations', with_mask=True)
    ]
    dataset = DATASETS.build(
        dict(
            type='SynthVISDataset',
            data_root=root,
            ann_file='annotations/valid.json',
            data_prefix=dict(img_path='valid/JPEGImages'),
            clip_len=3,
            clip_overlap=1,
            test_mode=True,
            pipeline=[
                dict(type='TransformBroadcaster', transforms=load),
                dict(type='PackClipInputs')
            ]))
    return [dataset[(0, c)] for c in range(2)]


def run_two_clips(model, clips):
    """Clip 0 as detected; clip 1 keeps only its first detection, so clip
    0's other tracks are lost in clip 1. Returns clip 0's detections, the
    prototypes of clip 1, the tracker's lost tracks and clip 1's output."""
    seen = dict(protos=[], dets=[], lost=[])
    detect, track = model._detect_clip, model.tracker.track

    def detect_first_only(x, metas):
        dets, protos = detect(x, metas)
        seen['protos'].append(protos)
        seen['dets'].append(dets)
        return (dets[:1] if metas[0]['clip_index'] == 1 else dets), protos

    def tracked(dets, clip):
        rows = track(dets, clip)
        seen['lost'].append(lost_of(rows))
        return rows

    model._detect_clip = detect_first_only
    model.tracker.track = tracked
    with torch.no_grad():
        for c in clips:
            out = model.predict(
                **model.data_preprocessor(pseudo_collate([c]), False))[0]
    return seen['dets'][0], seen['protos'][1], seen['lost'][1], out


def test_detector_emits_propagated_lost_tracks(synthvis_clips):
    """Random weights, candidates above 0.2: clip 1's output = its one
    detection + clip 0's other tracks, their scores x 0.9^3, masks
    regenerated from the stored parameters on clip 1's prototypes (crop
    x1.2), at the prototype resolution and RLE-encoded at the frame size.
    The default tracker outputs the detection only."""
    for name in ('ClipTracker', 'ReferenceClipTracker'):
        torch.manual_seed(0)
        model = MODELS.build(tiny_model_cfg(dict(type=name))).eval()
        model.test_cfg.score_thr = 0.2
        dets0, protos1, lost, out = run_two_clips(model, synthvis_clips)
        frame = [f for f in out if f.metainfo['is_output_frame']][0]
        res = frame.pred_track_instances
        ids = res.instances_id.tolist()
        if name == 'ClipTracker':
            assert lost is None and len(ids) == 1
            continue
        assert len(dets0) > 2 and len(lost) > 1
        assert ids[1:] == lost.instances_id.tolist()
        assert ids[0] not in ids[1:]
        # track id i of clip 0 is its detection i (all new there)
        rows = lost.instances_id
        assert torch.allclose(lost.scores, dets0.scores[rows] * 0.9**3)
        assert res.scores[1:].tolist() == pytest.approx(lost.scores.tolist())
        # class-score vectors (track-level labels) decay as the scores
        assert torch.allclose(lost.cls_scores, dets0.cls_scores[rows] * 0.9**3)
        assert torch.allclose(res.cls_scores[1:], lost.cls_scores)
        assert torch.allclose(res.cls_scores.max(1)[0], res.scores)
        h, w = dets0.mask_probs.shape[2:]
        assert lost.mask_probs.shape == (len(lost), 3, h, w)
        head = model.mask_head
        boxes = dets0.bboxes[rows] / head.proto_stride(protos1, frame.metainfo)
        # regenerated from clip 0's parameters of those tracks
        logits, crop = head.clip_mask_logits(protos1, dets0.params[rows],
                                             boxes, 1.2)
        assert torch.allclose(lost.mask_probs,
                              logits.sigmoid() * crop[:, None])
        assert all(m['size'] == [96, 160] for m in res.masks)


def test_box_iou_only_over_frames_where_both_masks_count():
    """Two compared frames: the detection's box equals the track's in frame
    0 (IoU 1) and misses it in frame 1 (IoU 0), where the detection's mask
    is empty. ClipTracker averages both frames: 0.5; the authors' tracker
    only frames where both masks have more than 2 pixels: 1.0; with no
    such frame, 0."""
    boxes = torch.tensor([[0., 0., 10., 10.], [0., 0., 10., 10.]])
    det_boxes = torch.tensor([[[0., 0., 10., 10.], [20., 20., 30., 30.]]])
    masks = torch.zeros(2, 8, 8, dtype=torch.bool)
    masks[:, :3, :3] = True  # 9 pixels in both frames
    det_masks = masks[None].clone()
    det_masks[0, 1] = False  # empty in frame 1
    project = ours().box_iou(boxes, det_boxes, masks, det_masks)
    authors = reference().box_iou(boxes, det_boxes, masks, det_masks)
    assert project.tolist() == pytest.approx([0.5])
    assert authors.tolist() == pytest.approx([1.0])
    det_masks[0, 0] = False
    assert reference().box_iou(boxes, det_boxes, masks,
                               det_masks).tolist() == [0.]
