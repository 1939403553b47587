"""load_tool_config: T is one number for the model and its data, checked
when the config is loaded (before the runner builds anything)."""
import os.path as osp

import pytest
from mmengine.config import Config

from projects.cico.apis import init_model
from projects.cico.utils import check_clip_len, load_tool_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'cico_yolact_r18_synthvis.py')


def test_every_config_has_one_t():
    """The shipped configs (ablations with T = 2..7 included) agree."""
    import glob
    paths = [
        p for p in glob.glob(
            osp.join(ROOT, 'configs', '**', '*.py'), recursive=True)
        if '_base_' not in p
    ]
    assert len(paths) > 60
    for path in paths:
        check_clip_len(Config.fromfile(path))


def test_a_second_t_is_refused_naming_both_keys():
    with pytest.raises(ValueError) as err:
        load_tool_config(CONFIG, {'model.clip_len': 4})
    assert 'train_dataloader.dataset.clip_len=3 but model.clip_len=4' in \
        str(err.value)
    cfg = load_tool_config(
        CONFIG, {
            'model.clip_len': 4,
            'train_dataloader.dataset.clip_len': 4,
            'val_dataloader.dataset.clip_len': 4,
            'test_dataloader.dataset.clip_len': 4
        })
    assert cfg.model.clip_len == 4
    # a wrapped dataset is looked into; the inferencer checks too
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset = dict(
        type='ConcatDataset',
        datasets=[cfg.train_dataloader.dataset,
                  dict(type='X', clip_len=5)])
    with pytest.raises(
            ValueError,
            match=r'train_dataloader.dataset.datasets.1.clip_len'
            r'=5 but model.clip_len=3'):
        check_clip_len(cfg)
    with pytest.raises(ValueError, match='test_dataloader.dataset.clip_len'):
        init_model(CONFIG, cfg_options={'test_dataloader.dataset.clip_len': 2})
