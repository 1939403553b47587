"""Every ablation child differs from its parent in exactly its intended keys,
and the CICO_ABLATION_BASE mechanism rebases it (e.g. onto SynthVIS)."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
ABL = osp.join(ROOT, 'configs', 'ablations')
DEFAULT_BASE = osp.join(ROOT, 'configs', 'cico_yolact_r50_ytvis19.py')

T_KEYS = {
    'model.clip_len', 'train_dataloader.dataset.clip_len',
    'val_dataloader.dataset.clip_len', 'test_dataloader.dataset.clip_len'
}
BH = 'model.bbox_head.'
EXPECTED = {
    'table1a_fifo_clip_loss_t3': {
        BH + 'box_tower_3d', BH + 'track_tower_3d', BH + 'regress_clip_boxes',
        'model.mask_head.is_3d'
    },  # cls tower is 2D already
    'table1a_fifo_clip_loss_t2': T_KEYS,
    'table1a_fifo_clip_loss_t4': T_KEYS,
    'table1a_fifo_t1': T_KEYS | {
        'val_dataloader.dataset.clip_overlap',
        'test_dataloader.dataset.clip_overlap'
    },
    'table1b_cph_2d':
    {BH + 'box_tower_3d', BH + 'track_tower_3d', 'model.mask_head.is_3d'},
    'table1b_cph_box3d': {BH + 'track_tower_3d', 'model.mask_head.is_3d'},
    'table1b_cph_box3d_track3d': {'model.mask_head.is_3d'},
    'table1b_cph_all3d': {BH + 'cls_tower_3d', 'model.mask_head.is_3d'},
    # the authors' recipe matches each frame's own box for T <= 5
    'table1c_circ_off_t3': set(),  # the default, spelled out
    'table1c_circ_on_t3': {'model.train_cfg.assigner.window'},
    'table1c_circ_off_t7': T_KEYS,
    'table1c_circ_on_t7': T_KEYS,
    'table1d_cmh_2d_t3': {'model.mask_head.is_3d'},
    'table1d_cmh_3d_t3': set(),
    'table1d_cmh_2d_t4': T_KEYS,
    'table1d_cmh_3d_t4': T_KEYS,
    'table2_overlap_0': {
        'val_dataloader.dataset.clip_overlap',
        'test_dataloader.dataset.clip_overlap'
    },
    'table2_overlap_1': set(),
    'table2_overlap_2': {
        'val_dataloader.dataset.clip_overlap',
        'test_dataloader.dataset.clip_overlap'
    },
    'fig5_clip_len_2': T_KEYS,
    'fig5_clip_len_3': set(),
    'fig5_clip_len_4': T_KEYS,
    'fig5_clip_len_5': T_KEYS,
    'fig5_clip_len_6': T_KEYS,
}


def flatten(d, prefix=''):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f'{prefix}{k}.'))
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for i, x in enumerate(v):
                out.update(flatten(x, f'{prefix}{k}.{i}.'))
        else:
            out[prefix + k] = v
    return out


def parent_of(path):
    text = open(path).read()
    base = re.search(r"_base_ = '([^']+)'", text).group(1)
    if base.startswith('{{$CICO_ABLATION_BASE'):
        return DEFAULT_BASE
    return osp.normpath(osp.join(osp.dirname(path), base))


def test_every_ablation_is_listed():
    import glob
    names = {
        osp.splitext(osp.basename(p))[0]
        for p in glob.glob(osp.join(ABL, '*.py'))
    }
    assert names == set(EXPECTED)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_ablation_changes_only_its_keys(name):
    path = osp.join(ABL, name + '.py')
    child = flatten(Config.fromfile(path).to_dict())
    parent = flatten(Config.fromfile(parent_of(path)).to_dict())
    # top-level helper variables (clip_len) are not config keys users train
    changed = {
        k
        for k in set(child) | set(parent)
        if child.get(k) != parent.get(k) and '.' in k
    }
    assert changed == EXPECTED[name]


def test_rebase_onto_synthvis(monkeypatch):
    monkeypatch.setenv('CICO_ABLATION_BASE', '../cico_yolact_r18_synthvis.py')
    cfg = Config.fromfile(osp.join(ABL, 'table1b_cph_box3d.py'))
    assert cfg.model.backbone.depth == 18
    assert cfg.train_dataloader.dataset.type == 'SynthVISDataset'
    assert cfg.model.bbox_head.track_tower_3d is False
    cfg = Config.fromfile(osp.join(ABL, 'fig5_clip_len_5.py'))
    assert cfg.model.clip_len == cfg.test_dataloader.dataset.clip_len == 5
    assert cfg.model.backbone.depth == 18
