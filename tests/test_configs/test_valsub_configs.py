"""The local-validation configs (``configs/*_valsub.py``): each trains on the
``train_sub.json`` that tools/dataset_converters/split_vis.py writes next to
its dataset's training json, validates on ``valid_sub.json`` (training
frames) with AP every ``val_interval`` epochs, and keeps the best checkpoint
under a key that CiCoVISMetric really outputs; nothing else changes."""
import glob
import json
import os.path as osp
import re

import numpy as np
import pycocotools.mask as mask_utils
import pytest
import torch
from mmdet.registry import DATASETS, METRICS
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.structures import InstanceData

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(glob.glob(osp.join(ROOT, 'configs', '*_valsub.py')))
# config -> (its parent, training json relative to data_root, image folder)
EXPECTED = {
    'cico_yolact_r50_ytvis19_valsub':
    ('cico_yolact_r50_ytvis19', 'train.json', 'train/JPEGImages'),
    'cico_yolact_r50_ytvis21_valsub':
    ('cico_yolact_r50_ytvis21', 'train/instances.json', 'train/JPEGImages'),
    'cico_yolact_r50_ovis_valsub':
    ('cico_yolact_r50_ovis', 'annotations_train.json', 'train'),
}
# the keys a valsub child changes (top-level helpers have no dot)
CHANGED = {
    'train_dataloader.dataset.ann_file', 'val_dataloader.dataset.ann_file',
    'val_dataloader.dataset.data_prefix.img_path',
    'test_dataloader.dataset.ann_file',
    'test_dataloader.dataset.data_prefix.img_path',
    'val_evaluator.format_only', 'val_evaluator.outfile_prefix',
    'test_evaluator.format_only', 'test_evaluator.outfile_prefix',
    'train_cfg.val_interval', 'default_hooks.checkpoint.save_best',
    'default_hooks.checkpoint.rule'
}


def name_of(path):
    return osp.splitext(osp.basename(path))[0]


def load(name):
    return Config.fromfile(osp.join(ROOT, 'configs', name + '.py'))


def flatten(d, prefix=''):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f'{prefix}{k}.'))
        else:
            out[prefix + k] = v
    return out


def test_one_valsub_config_per_dataset():
    assert sorted(map(name_of, CONFIGS)) == sorted(EXPECTED)


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_valsub_config_points_at_the_split(name):
    parent_name, train_json, img_dir = EXPECTED[name]
    cfg, parent = load(name), load(parent_name)
    text = open(osp.join(ROOT, 'configs', name + '.py')).read()
    assert re.search(r"_base_ = '\./([^']+)\.py'", text).group(1) == \
        parent_name
    # both files where split_vis.py writes them: next to the training json
    folder = osp.dirname(train_json)
    train, val = cfg.train_dataloader.dataset, cfg.val_dataloader.dataset
    assert parent.train_dataloader.dataset.ann_file == train_json
    assert train.ann_file == osp.join(folder, 'train_sub.json')
    assert val.ann_file == osp.join(folder, 'valid_sub.json')
    assert train.data_root == val.data_root == \
        parent.train_dataloader.dataset.data_root
    assert train.data_prefix.img_path == val.data_prefix.img_path == img_dir
    assert val.test_mode and val.type == train.type
    assert cfg.test_dataloader == cfg.val_dataloader
    # AP, not the CodaLab export, every val_interval epochs
    for key in ('val_evaluator', 'test_evaluator'):
        assert cfg[key].type == 'CiCoVISMetric'
        assert cfg[key].format_only is False
        assert cfg[key].outfile_prefix is None
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    # validated after every epoch of the 12 (the real configs never validate)
    assert (cfg.train_cfg.val_interval, cfg.train_cfg.max_epochs) == (1, 12)
    ckpt = cfg.default_hooks.checkpoint
    assert ckpt.type == 'CheckpointHook'
    assert ckpt.save_best == 'youtube_vis/segm_mAP' and ckpt.rule == 'greater'


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_valsub_changes_only_data_evaluation_and_checkpoint(name):
    child = flatten(load(name).to_dict())
    parent = flatten(load(EXPECTED[name][0]).to_dict())
    changed = {
        k
        for k in set(child) | set(parent)
        if child.get(k) != parent.get(k) and '.' in k
    }
    assert changed == CHANGED


def _frame(frame_id, rle, cls_label):
    s = DetDataSample(
        metainfo=dict(
            video_id=1,
            frame_id=frame_id,
            img_id=frame_id,
            ori_shape=(20, 30),
            ori_video_length=2,
            is_output_frame=True,
            clip_index=frame_id,  # PackClipInputs' clip layout
            instances=[
                dict(
                    bbox=[2.0, 2.0, 8.0, 8.0],
                    bbox_label=cls_label,
                    instance_id=1,
                    ignore_flag=0,
                    mask=dict(rle))
            ]))
    s.pred_track_instances = InstanceData(
        instances_id=torch.tensor([1]),
        bboxes=torch.tensor([[2.0, 2.0, 8.0, 8.0]]),
        labels=torch.tensor([cls_label]),
        scores=torch.tensor([0.5]),
        masks=[dict(rle)])
    return s


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_save_best_key_is_a_metric_output(name):
    """The config's own evaluator on a 2-frame video whose track is the
    ground truth: AP 1 under exactly the save_best key."""
    cfg = load(name)
    metric = METRICS.build(cfg.val_evaluator)
    classes = DATASETS.get(cfg.val_dataloader.dataset.type).METAINFO['classes']
    cat_ids = tuple(range(1, len(classes) + 1))
    metric.dataset_meta = dict(classes=classes, cat_ids=cat_ids)
    m = np.zeros((20, 30), np.uint8, order='F')
    m[2:8, 2:8] = 1
    rle = mask_utils.encode(m)
    rle['counts'] = rle['counts'].decode()
    metric.process({}, [dict(video_data_samples=[_frame(0, rle, 3)])])
    metric.process({}, [dict(video_data_samples=[_frame(1, rle, 3)])])
    res = metric.evaluate(1)
    assert res[cfg.default_hooks.checkpoint.save_best] == 1.0


@pytest.mark.parametrize('name', sorted(EXPECTED))
def test_split_files_load_in_the_config_datasets(name, tmp_path):
    """split_vis.py on a 10-video training json in the dataset's layout; the
    config's training and validation datasets (data_root moved to tmp) load
    its two files: 9 + 1 videos, the last one held out with --last."""
    from tools.dataset_converters import split_vis
    cfg = load(name)
    _, train_json, _ = EXPECTED[name]
    classes = DATASETS.get(
        cfg.train_dataloader.dataset.type).METAINFO['classes']
    videos, anns = [], []
    for v in range(1, 11):
        videos.append(
            dict(
                id=v,
                width=30,
                height=20,
                length=2,
                file_names=[f'v{v}/0.jpg', f'v{v}/1.jpg']))
        anns.append(
            dict(
                id=100 + v,
                video_id=v,
                category_id=v % 3 + 1,
                iscrowd=0,
                bboxes=[[2, 2, 6, 6], None],
                areas=[36, None],
                segmentations=[[[2, 2, 8, 2, 8, 8, 2, 8]], None]))
    data = dict(
        videos=videos,
        annotations=anns,
        categories=[dict(id=i + 1, name=c) for i, c in enumerate(classes)])
    src = tmp_path / train_json
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(json.dumps(data))
    split_vis.main([str(src), '--last'])
    loaded = {}
    for key in ('train_dataloader', 'val_dataloader'):
        ds_cfg = cfg[key].dataset.copy()
        ds_cfg.data_root = str(tmp_path)
        ds = DATASETS.build(ds_cfg)
        loaded[key] = [ds.get_data_info(i)['video_id'] for i in range(len(ds))]
        first = ds.get_data_info(0)['images'][0]
        assert first['img_path'] == osp.join(
            str(tmp_path), cfg[key].dataset.data_prefix.img_path,
            first['file_name'])
    assert loaded == dict(
        train_dataloader=list(range(1, 10)), val_dataloader=[10])
