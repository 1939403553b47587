"""Tests of projects/cico/utils/masks.py: segmentations to RLE, RLEs to
masks."""
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from projects.cico.utils.masks import rle_to_masks, segmentation_to_rle

H, W = 6, 8
# a 3 x 4 rectangle, rows 1..3, columns 2..5
MASK = np.zeros((H, W), np.uint8)
MASK[1:4, 2:6] = 1
POLYGON = [[2, 1, 6, 1, 6, 4, 2, 4]]  # its outline, pixel corners


def _uncompressed(mask):
    """Column-major run lengths from a zero run (COCO iscrowd format)."""
    flat = mask.flatten(order='F')
    counts, value, run = [], 0, 0
    for v in flat:
        if v != value:
            counts.append(run)
            value, run = v, 0
        run += 1
    counts.append(run)
    return dict(size=[H, W], counts=counts)


def test_three_encodings_decode_to_the_same_mask():
    compressed = mask_utils.encode(np.asfortranarray(MASK))
    uncompressed = _uncompressed(MASK)
    assert uncompressed['counts'] == [13, 3, 3, 3, 3, 3, 3, 3, 14]
    text = dict(compressed, counts=compressed['counts'].decode())  # json form
    for seg in (POLYGON, uncompressed, compressed, text):
        rle = segmentation_to_rle(seg, H, W)
        assert isinstance(rle['counts'], (str, bytes))
        np.testing.assert_array_equal(mask_utils.decode(rle), MASK)
        assert mask_utils.toBbox(rle).tolist() == [2, 1, 4, 3]
    # a compressed RLE is returned as is
    assert segmentation_to_rle(compressed, H, W) is compressed


def test_uncompressed_rle_uses_its_own_size():
    # the frame size is only for polygons: an RLE carries its size
    rle = segmentation_to_rle(_uncompressed(MASK), None, None)
    assert rle['size'] == [H, W] and int(mask_utils.area(rle)) == 12


def test_two_polygons_are_merged():
    two = [[0, 0, 2, 0, 2, 2, 0, 2], [6, 4, 8, 4, 8, 6, 6, 6]]
    mask = mask_utils.decode(segmentation_to_rle(two, H, W))
    assert int(mask.sum()) == 8
    assert mask[0:2, 0:2].all() and mask[4:6, 6:8].all()


@pytest.mark.parametrize(
    'seg',
    [None, 'counts', dict(counts=[1, 2]),
     dict(size=[H, W])])
def test_unsupported_segmentation(seg):
    with pytest.raises(ValueError, match='unsupported segmentation'):
        segmentation_to_rle(seg, H, W)


def test_rle_to_masks():
    other = np.zeros((H, W), np.uint8)
    other[5, 7] = 1
    rles = [mask_utils.encode(np.asfortranarray(m)) for m in (MASK, other)]
    masks = rle_to_masks(rles, H, W)
    assert masks.dtype == torch.bool and tuple(masks.shape) == (2, H, W)
    np.testing.assert_array_equal(masks[0].numpy(), MASK.astype(bool))
    assert masks[1].sum().item() == 1 and masks[1, 5, 7].item()
    empty = rle_to_masks([], H, W)
    assert empty.dtype == torch.bool and tuple(empty.shape) == (0, H, W)
    with pytest.raises(ValueError, match=r'cannot be decoded into \(8, 6\)'):
        rle_to_masks(rles, W, H)
