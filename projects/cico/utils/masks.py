"""Mask encodings: VIS segmentations and predicted RLEs.

A YouTube-VIS / OVIS / COCO segmentation is one of

* polygons: a list of ``[x1, y1, x2, y2, ...]`` lists (merged into one mask);
* uncompressed RLE: ``{'size': [h, w], 'counts': [int, ...]}``;
* compressed RLE: ``{'size': [h, w], 'counts': str | bytes}`` (pycocotools).

:func:`segmentation_to_rle` turns any of them into a compressed RLE (for
``mask_utils.toBbox`` / ``area`` / ``iou`` / ``decode``);
:func:`rle_to_masks` decodes a list of RLEs (e.g. the model's
``pred_track_instances.masks``) into a ``(n, H, W)`` bool tensor.
"""
from typing import Any, Dict, Sequence

import numpy as np
import torch
from pycocotools import mask as mask_utils

__all__ = ['segmentation_to_rle', 'rle_to_masks']


def segmentation_to_rle(seg: Any, height: int, width: int) -> Dict[str, Any]:
    """A segmentation (polygons, uncompressed or compressed RLE) as a
    compressed RLE.

    Args:
        seg (list | dict): the segmentation.
        height (int): frame height, used by polygons (an RLE has its own
            ``size``).
        width (int): frame width, used by polygons.

    Returns:
        dict: compressed RLE (``size``, ``counts``); a compressed RLE input
        is returned as is.

    Raises:
        ValueError: ``seg`` is none of the three encodings.
    """
    if isinstance(seg, list):  # polygons
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if isinstance(seg, dict) and 'size' in seg:
        counts = seg.get('counts')
        if isinstance(counts, list):  # uncompressed RLE
            h, w = seg['size']
            return mask_utils.frPyObjects(seg, h, w)
        if isinstance(counts, (str, bytes)):  # compressed RLE
            return seg
    raise ValueError(
        'unsupported segmentation: expected polygons, or an RLE '
        f'dict with size and counts, got {type(seg).__name__}' +
        (f' with keys {sorted(seg)}' if isinstance(seg, dict) else ''))


def rle_to_masks(rles: Sequence[Dict[str, Any]], height: int,
                 width: int) -> torch.Tensor:
    """Decode compressed RLEs of one frame into binary masks.

    Args:
        rles (Sequence[dict]): pycocotools RLEs, all of size
            ``(height, width)``.
        height (int): frame height.
        width (int): frame width.

    Returns:
        Tensor: ``(n, height, width)`` bool, ``n = len(rles)``.

    Raises:
        ValueError: an RLE is not of size ``(height, width)``.
    """
    rles = list(rles)
    if not rles:
        return torch.zeros((0, height, width), dtype=torch.bool)
    sizes = {tuple(r['size']) for r in rles}
    if sizes != {(height, width)}:
        raise ValueError(f'RLEs of sizes {sorted(sizes)} cannot be decoded '
                         f'into ({height}, {width}) masks')
    masks = mask_utils.decode(rles)  # (H, W, n) uint8
    return torch.from_numpy(
        np.ascontiguousarray(masks.transpose(2, 0, 1)).astype(bool))
