"""Test-time sparse towers equal the dense computation exactly."""
import pytest
import torch
from mmengine.config import ConfigDict
from test_clip_head import feats, make_head, metas

from projects.cico.models.dense_heads import clip_predictor
from projects.cico.models.layers import ClipConvTower
from projects.cico.models.layers.sparse_tower import sparse_tower_outputs


@pytest.mark.parametrize('is_3d', [True, False])
def test_tower_at_locations_equals_dense(is_3d):
    torch.manual_seed(0)
    tower = ClipConvTower(6, 6, 3, is_3d=is_3d).eval()
    pred = torch.nn.Conv2d(6, 5, 3, padding=1)
    x = torch.randn(3, 6, 9, 11)
    dense = pred(tower(x, 3))  # (T, 5, h, w)
    # corners, borders and the interior
    locs = torch.tensor([[0, 0], [0, 10], [8, 0], [8, 10], [4, 5], [1, 9]])
    out = sparse_tower_outputs(tower, [pred], x, locs, 3)[0]  # (n, T, 5)
    expect = dense[:, :, locs[:, 0], locs[:, 1]].permute(2, 0, 1)
    assert torch.allclose(out, expect, atol=1e-5)


@pytest.mark.parametrize('t', [1, 3])
def test_sparse_predict_equals_dense_predict(t):
    torch.manual_seed(0)
    head = make_head(t=t).eval()
    # big enough maps and few candidates: the patches are cheaper than the
    # maps, so the sparse path runs (at P3 at least)
    x = feats(t, sizes=((24, 32), (12, 16), (6, 8), (3, 4), (2, 2)))
    cfg = ConfigDict(score_thr=0.0, nms_pre=8, sparse_towers=False)
    dense = clip_predictor.predict_candidates(
        head, x, metas(t, 192, 256), cfg=cfg)[0]
    calls = []
    orig = clip_predictor.sparse_tower_outputs
    clip_predictor.sparse_tower_outputs = \
        lambda *a: calls.append(1) or orig(*a)
    try:
        sparse = clip_predictor.predict_candidates(
            head, x, metas(t, 192, 256), cfg=dict(cfg, sparse_towers=True))[0]
        sparse = clip_predictor.add_embeddings(head, x, sparse)
    finally:
        clip_predictor.sparse_tower_outputs = orig
    assert len(calls) >= 2  # box and track towers went sparse somewhere
    for key in ('scores', 'labels', 'frame_inds', 'frame_bboxes', 'bboxes',
                'quality', 'params', 'embeds'):
        assert torch.allclose(
            dense[key].float(), sparse[key].float(), atol=1e-4), key
