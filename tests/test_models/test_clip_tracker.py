"""ClipTracker on constructed clips (Eq. 11)."""
import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.structures import InstanceData

from projects.cico.models.trackers import TrackingClip

H, W = 40, 60


def det(boxes, emb, label=0, score=0.9):
    """One clip detection: boxes per clip frame, embedding direction."""
    t = len(boxes)
    masks = torch.zeros(t, H, W, dtype=torch.bool)
    for k, b in enumerate(boxes):
        x1, y1, x2, y2 = [int(v) for v in b]
        masks[k, y1:y2, x1:x2] = True
    return dict(
        frame_bboxes=torch.tensor(boxes, dtype=torch.float),
        masks=masks,
        embeds=F.normalize(torch.tensor(emb, dtype=torch.float), dim=0),
        labels=label,
        scores=score)


def clip(dets):
    if not dets:
        return InstanceData(
            frame_bboxes=torch.zeros(0, 3, 4),
            masks=torch.zeros(0, 3, H, W, dtype=torch.bool),
            embeds=torch.zeros(0, 2),
            labels=torch.zeros(0, dtype=torch.long),
            scores=torch.zeros(0))
    return InstanceData(
        frame_bboxes=torch.stack([d['frame_bboxes'] for d in dets]),
        masks=torch.stack([d['masks'] for d in dets]),
        embeds=torch.stack([d['embeds'] for d in dets]),
        labels=torch.tensor([d['labels'] for d in dets]),
        scores=torch.tensor([d['scores'] for d in dets]))


def tracker(**kwargs):
    return MODELS.build(dict(type='ClipTracker', **kwargs))


def box_at(x, y=10, s=10):
    return [x, y, x + s, y + s]


def test_crossing_objects_keep_their_ids():
    """Two objects swap sides across clips; at the crossing clip boxes and
    masks coincide, so only the embeddings tell them apart."""
    trk = tracker()
    nums = lambda c: torch.arange(c * 2, c * 2 + 3)  # noqa: E731, T=3 T_o=1
    # a: moves right 0 -> 40; b: moves left 40 -> 0; same place at clip 1
    pos_a = [[0, 5, 10], [10, 20, 30], [30, 35, 40]]
    pos_b = [[40, 35, 30], [30, 20, 10], [10, 5, 0]]
    ids = []
    for c in range(3):
        a = det([box_at(x) for x in pos_a[c]], [1., 0.])
        b = det([box_at(x) for x in pos_b[c]], [0., 1.])
        out = trk.track(clip([b, a]),
                        TrackingClip(c, nums(c)))  # order differs from ids
        ids.append(out.instances_id.tolist())
    assert ids[0] == [0, 1]
    assert ids[1] == [0, 1] and ids[2] == [0, 1]


def test_object_leaves_for_two_clips_and_comes_back():
    nums = lambda c: torch.arange(c * 3, c * 3 + 3)  # noqa: E731, T_o=0
    a = lambda: det([box_at(10)] * 3, [1., 0.])  # noqa: E731
    for retain, expect in ((5, 0), (1, 1)):
        trk = tracker(num_clips_retain=retain)
        assert trk.track(clip([a()]),
                         TrackingClip(0,
                                      nums(0))).instances_id.tolist() == [0]
        trk.track(clip([]), TrackingClip(1, nums(1)))
        trk.track(clip([]), TrackingClip(2, nums(2)))
        back = trk.track(clip([a()]),
                         TrackingClip(3, nums(3))).instances_id.tolist()
        assert back == [expect], (retain, back)


def test_overlap_frames_drive_the_ious():
    """Neutral embeddings; the same object overlaps the previous clip in the
    shared frame(s). With T_o = 0 the last and first frames are compared."""
    for overlap in (0, 1, 2):
        step = 3 - overlap
        trk = tracker()
        nums0 = torch.arange(0, 3)
        nums1 = torch.arange(step, step + 3)
        xs = list(range(0, 20, 2))  # 2 px per frame
        d0 = det([box_at(x) for x in xs[:3]], [1., 0.])
        trk.track(clip([d0]), TrackingClip(0, nums0))
        # the object continues; a second one far away appears
        d1 = det([box_at(x) for x in xs[step:step + 3]], [0., 1.])
        other = det([box_at(45)] * 3, [0., 1.])
        # IoUs come from shared frames exactly when the clips overlap
        box_iou, _, shared = trk._iou_terms(trk.memo, clip([d1]), nums1)
        assert bool(shared[0]) == (overlap > 0), overlap
        if overlap:  # same boxes in the shared frames
            assert box_iou[0, 0].item() == 1.0
        else:  # frame 2 (x=4) vs frame 3 (x=6): 8x10 / 12x10
            assert abs(box_iou[0, 0].item() - 80 / 120) < 1e-6
        out = trk.track(clip([other, d1]), TrackingClip(1, nums1))
        # embeddings are orthogonal to the track: the IoUs decide
        assert out.instances_id.tolist() == [1, 0], overlap


def test_one_to_one_and_no_detection_dropped():
    trk = tracker()
    a = det([box_at(10)] * 3, [1., 0.])
    trk.track(clip([a]), TrackingClip(0, torch.arange(3)))
    # two near-identical detections compete for the single track
    d1 = det([box_at(10)] * 3, [1., 0.], score=0.8)
    d2 = det([box_at(11)] * 3, [1., 0.05], score=0.7)
    out = trk.track(clip([d1, d2]), TrackingClip(1, torch.arange(2, 5)))
    assert sorted(out.instances_id.tolist()) == [0, 1]  # one new, none lost
    assert trk.num_tracks == 2


def test_dissimilar_detection_starts_a_new_track():
    trk = tracker()
    trk.track(
        clip([det([box_at(0)] * 3, [1., 0.])]),
        TrackingClip(0, torch.arange(3)))
    far = det([box_at(45)] * 3, [-1., 0.], label=3)
    out = trk.track(clip([far]), TrackingClip(1, torch.arange(2, 5)))
    assert out.instances_id.tolist() == [1]


def test_reference_new_track_threshold():
    trk = tracker()
    # 1.0 * 0.5 + (0.5 + 0.5) * 0.3 + 0.3 without overlap; IoU weights x2
    # with overlap
    assert abs(trk._threshold(1.0) - 1.1) < 1e-9
    assert abs(trk._threshold(2.0) - 1.4) < 1e-9
    assert tracker(match_thr=0.7)._threshold(2.0) == 0.7


def test_reset_and_memory_is_bounded():
    """The detector resets the tracker when its stream starts a new video
    (tests/test_models/test_cico.py checks that part)."""
    trk = tracker()
    for c in range(20):
        trk.track(
            clip([det([box_at(10)] * 3, [1., 0.])]),
            TrackingClip(c, torch.arange(2 * c, 2 * c + 3)))
        assert len(trk.tracks[0]['masks']) == 1  # only the latest kept
    assert trk.ids == [0]
    trk.reset()
    out = trk.track(
        clip([det([box_at(10)] * 3, [0., 1.])]),
        TrackingClip(0, torch.arange(3)))
    assert out.instances_id.tolist() == [0] and trk.num_tracks == 1
