"""ClipExpand: the authors' zoom-out / zoom-in augmentation, by hand."""
import numpy as np
import pytest
from mmcv.transforms import TransformBroadcaster
from mmdet.structures.bbox import HorizontalBoxes
from mmdet.structures.mask import BitmapMasks

from projects.cico.datasets.transforms import ClipExpand


def frame(h=4, w=8):
    img = np.full((h, w, 3), 10., dtype=np.float32)
    mask = np.zeros((1, h, w), dtype=np.uint8)
    mask[0, :, :4] = 1  # the left half
    return dict(
        img=img,
        img_shape=(h, w),
        gt_bboxes=HorizontalBoxes(np.array([[0., 0., 4., 4.]], np.float32)),
        gt_masks=BitmapMasks(mask, h, w))


def test_zoom_out_pastes_top_left_on_the_fill():
    """s = 0.5 on a 4 x 8 frame: the frame becomes 2 x 4 at the top-left,
    the rest is the fill (the mean, 0 after normalisation); the box
    (0, 0, 4, 4) becomes (0, 0, 2, 2)."""
    out = ClipExpand(fill=(1., 2., 3.)).expand(frame(), 0.5, 0, 0)
    assert out['img'].shape == (4, 8, 3)
    assert (out['img'][:2, :4] == 10).all()
    assert (out['img'][2:, :] == [1., 2., 3.]).all()
    assert (out['img'][:, 4:] == [1., 2., 3.]).all()
    assert out['gt_bboxes'].numpy().tolist() == [[0., 0., 2., 2.]]
    mask = out['gt_masks'].masks[0]
    assert mask.shape == (4, 8)
    assert mask[:2, :2].all() and mask.sum() == 4


def test_zoom_in_crops_a_window_and_clips_boxes():
    """s = 1.5: the 4 x 8 frame becomes 6 x 12 and the window at (left 2,
    top 1) is kept. Box (0, 0, 4, 4) -> x 1.5 -> (0, 0, 6, 6) -> shifted
    (-2, -1, 4, 5) -> clipped (0, 0, 4, 4); a box that ends up outside
    the window keeps a zero size."""
    results = frame()
    results['gt_bboxes'] = HorizontalBoxes(
        np.array([[0., 0., 4., 4.], [0., 0., 1., 0.5]], np.float32))
    results['gt_masks'] = BitmapMasks(
        np.concatenate([results['gt_masks'].masks] * 2), 4, 8)
    out = ClipExpand().expand(results, 1.5, 2, 1)
    assert out['img'].shape == (4, 8, 3)
    boxes = out['gt_bboxes'].numpy().tolist()
    assert boxes[0] == [0., 0., 4., 4.]
    assert boxes[1][2] - boxes[1][0] == 0  # 1.5 - 2 < 0 -> clipped to 0
    mask = out['gt_masks'].masks[0]  # left 6 of 12 columns, minus 2
    assert mask.shape == (4, 8) and mask[:, :4].all() and not mask[:, 4:].any()


def test_one_draw_per_clip_and_probability():
    """Inside TransformBroadcaster(share_random_params=True) the frames of
    a clip share s and the window; prob 0 never changes a frame."""
    np.random.seed(3)
    clip = TransformBroadcaster(
        transforms=[ClipExpand(prob=1.0)], share_random_params=True)
    frames = [frame(), frame()]
    frames[1]['img'] = frames[1]['img'] * 2
    out = clip({k: [f[k] for f in frames] for k in frames[0]})
    boxes = [b.numpy().tolist() for b in out['gt_bboxes']]
    assert boxes[0] == boxes[1] != [[0., 0., 4., 4.]]
    assert np.array_equal(out['img'][0] * 2 == 20, out['img'][1] == 20)
    assert np.array_equal(out['gt_masks'][0].masks, out['gt_masks'][1].masks)
    same = ClipExpand(prob=0.0)(frame())
    assert same['gt_bboxes'].numpy().tolist() == [[0., 0., 4., 4.]]
    with pytest.raises(ValueError, match='scale_range'):
        ClipExpand(scale_range=(0., 1.))
