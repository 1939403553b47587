"""Every top-level config builds and its model runs one forward/backward on a
random clip (small input)."""
import glob
import os.path as osp

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(ROOT, 'configs', '*.py')) +
    glob.glob(osp.join(ROOT, 'configs', 'ablations', '*.py')))


def test_config_inventory():
    names = {osp.basename(c) for c in CONFIGS}
    for arch in ('r50', 'r101', 'swint'):
        for ds in ('ytvis19', 'ytvis21', 'ovis'):
            assert f'cico_yolact_{arch}_{ds}.py' in names
    assert 'cico_yolact_r18_synthvis.py' in names


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(c, ROOT) for c in CONFIGS])
def test_config_builds_and_trains_one_step(path, clip_factory, monkeypatch):
    if osp.basename(osp.dirname(path)) == 'ablations':
        # ablations on the CPU-sized base (the R50 base is covered above)
        monkeypatch.setenv('CICO_ABLATION_BASE',
                           '../cico_yolact_r18_synthvis.py')
    cfg = Config.fromfile(path)
    model_cfg = cfg.model
    t = model_cfg.clip_len
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if key in cfg and cfg[key] is not None:
            assert cfg[key].dataset.clip_len == t, (
                f'{key}.dataset.clip_len differs from model.clip_len')
    # the configs' own initialisers, without the pretrained files (no
    # downloads): the authors' recipe decodes boxes without mmdet's delta
    # clamp, so PyTorch's default init can overflow exp(dw)
    model_cfg.pop('init_cfg', None)
    model_cfg.backbone.init_cfg = None
    torch.manual_seed(0)
    model = MODELS.build(model_cfg)
    model.init_weights()
    model.train()
    batch = pseudo_collate([clip_factory(t=t, h=64, w=96)])
    data = model.data_preprocessor(batch, training=True)
    losses = model.loss(**data)
    total = sum(v for v in losses.values())
    assert torch.isfinite(total), losses
    total.backward()
    grads = [
        p.grad for p in model.bbox_head.parameters() if p.grad is not None
    ]
    assert grads and all(torch.isfinite(g).all() for g in grads)
