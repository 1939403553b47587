"""Your own data, end to end: a per-frame COCO set built from SynthVIS frames
(3 classes) is converted with tools/dataset_converters/coco_frames_to_vis.py,
trained a few iterations with configs/custom/cico_yolact_r18_custom_cpu.py
(classes read from the json) and tested with tools/test.py; a 6-class
checkpoint is fine-tuned on it (its class layer re-initialised with one log
line, everything else loaded).

CPU only: 64x96 frames, 32 channels, 2 iterations, no dataloader workers.
"""
import importlib.util
import logging
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_checkpoint

from tools.dataset_converters.coco_frames_to_vis import convert_file

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = 'configs/custom/cico_yolact_r18_custom_cpu.py'
SCALE = '(96,64)'  # (w, h) = the generated frames
TIMEOUT = 300
MISMATCH = 'size mismatch'
THREE_CLASSES = ('round', 'polygon', 'pointy')

pytestmark = pytest.mark.slow


def _frames_helpers():
    """The per-frame COCO builder of test_coco_frames_to_vis.py."""
    path = Path(__file__).with_name('test_coco_frames_to_vis.py')
    spec = importlib.util.spec_from_file_location('_coco_frames', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def tiny_options(root: str, max_iters: int = 2) -> List[str]:
    opts = [
        f'train_cfg.max_iters={max_iters}',
        'train_cfg.val_interval=1000',  # tools/test.py evaluates
        f'default_hooks.checkpoint.interval={max_iters}',
        'default_hooks.logger.interval=1',
        'train_dataloader.batch_size=1',
        'randomness.seed=0',
        'model.test_cfg.nms.max_per_clip=5',
        f'train_dataloader.dataset.pipeline.1.transforms.2.scale={SCALE}',
        f'train_dataloader.dataset.pipeline.1.transforms.3.crop_size={SCALE}'
    ]
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts += [
            f'{loader}.dataset.data_root={root}', f'{loader}.num_workers=0',
            f'{loader}.persistent_workers=False'
        ]
        if loader != 'train_dataloader':
            opts.append(
                f'{loader}.dataset.pipeline.0.transforms.1.scale={SCALE}')
    return opts


def run_tool(args: List[str]) -> subprocess.CompletedProcess:
    env = dict(os.environ, CUDA_VISIBLE_DEVICES='', OMP_NUM_THREADS='2')
    proc = subprocess.run([sys.executable, *args],
                          cwd=str(REPO_ROOT),
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=TIMEOUT)
    assert proc.returncode == 0, (f'exit {proc.returncode}: {args}\n'
                                  f'{proc.stdout[-3000:]}\n'
                                  f'{proc.stderr[-5000:]}')
    return proc


def build_model(num_classes: int) -> torch.nn.Module:
    cfg = Config.fromfile(str(REPO_ROOT / CONFIG))
    init_default_scope('mmdet')
    import projects.cico  # noqa: F401  (registers the modules)
    cfg.model.bbox_head.num_classes = num_classes
    cfg.model.mask_head.num_classes = num_classes
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


@pytest.fixture(scope='module')
def custom_data(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp('custom')
    built = _frames_helpers().build_coco_frames_set(root)
    counts = {}
    for split in ('train', 'valid'):
        counts[split] = convert_file(
            str(built[split]['frames_json']),
            str(root / 'annotations' / f'{split}.json'),
            img_dir=str(root / split / 'JPEGImages'))
    return dict(root=str(root), counts=counts)


@pytest.fixture(scope='module')
def six_class_ckpt(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp('ckpt6') / 'six_classes.pth'
    torch.save(dict(state_dict=build_model(6).state_dict()), path)
    return path


def test_converted_counts(custom_data):
    train = custom_data['counts']['train']
    assert train['videos'] == 3 and train['categories'] == 3
    assert train['tracks'] > 0
    assert train['frame_annotations'] >= train['tracks']


def test_train_and_test_three_classes(custom_data, tmp_path):
    work = tmp_path / 'work'
    proc = run_tool([
        'tools/train.py', CONFIG, '--work-dir',
        str(work), '--cfg-options', *tiny_options(custom_data['root'])
    ])
    log = (proc.stdout + proc.stderr)
    assert 'Iter(train) [2/2]' in log
    ckpt = torch.load(
        work / 'iter_2.pth', map_location='cpu', weights_only=False)
    assert tuple(ckpt['meta']['dataset_meta']['classes']) == THREE_CLASSES
    # 3 classes: sigmoid scores, one output per class and anchor
    priors = build_model(3).bbox_head.num_base_priors
    assert ckpt['state_dict']['bbox_head.conv_cls.weight'].shape[0] == \
        3 * priors
    proc = run_tool([
        'tools/test.py', CONFIG,
        str(work / 'iter_2.pth'), '--trust-checkpoint', '--work-dir',
        str(tmp_path / 'test'), '--cfg-options',
        *tiny_options(custom_data['root'])
    ])
    assert re.search(r'youtube_vis/segm_mAP: -?\d', proc.stdout + proc.stderr)


def test_load_six_class_checkpoint_reinitialises_class_layer(
        six_class_ckpt, caplog):
    model = build_model(3)
    fresh_cls = model.bbox_head.conv_cls.weight.detach().clone()
    saved = torch.load(six_class_ckpt, map_location='cpu')['state_dict']
    logger = MMLogger.get_instance('cico_finetune_test')
    messages = []
    handler = logging.Handler()
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    try:
        load_checkpoint(
            model, str(six_class_ckpt), strict=False, logger=logger)
    finally:
        logger.removeHandler(handler)
    text = '\n'.join(messages)
    assert MISMATCH not in text and 'missing keys' not in text, text
    line = [m for m in messages if 'conv_cls re-initialised' in m]
    assert len(line) == 1, messages
    a = model.bbox_head.num_base_priors
    assert 'bbox_head.conv_cls' in line[0]
    assert f'({6 * a}, 32, 3, 3) != model shape ({3 * a}, 32, 3, 3)' \
        in line[0]
    assert 'class count differs' in line[0]
    # the class layer is the fresh one, everything else is the checkpoint's
    assert torch.equal(model.bbox_head.conv_cls.weight, fresh_cls)
    for key, value in model.state_dict().items():
        if 'conv_cls' not in key:
            assert torch.equal(value, saved[key]), key


def test_finetune_six_class_checkpoint(custom_data, six_class_ckpt, tmp_path):
    work = tmp_path / 'work'
    proc = run_tool([
        'tools/train.py', CONFIG, '--work-dir',
        str(work), '--cfg-options',
        *tiny_options(custom_data['root'], max_iters=1),
        f'load_from={six_class_ckpt}'
    ])
    log = proc.stdout + proc.stderr
    lines = [ln for ln in log.splitlines() if 'conv_cls re-initialised' in ln]
    assert len(lines) == 1, log[-3000:]
    assert 'bbox_head.conv_cls' in lines[0]
    assert MISMATCH not in log
    assert 'Iter(train) [1/1]' in log
    assert (work / 'iter_1.pth').is_file()
