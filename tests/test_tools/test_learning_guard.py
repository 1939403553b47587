"""The whole chain learns: train -> clip inference -> tracker -> metric.

A handful of tiny SynthVIS videos, a short training from scratch with the
CPU SynthVIS config (tools/train.py), then tools/test.py on the *same*
videos: a healthy chain overfits them to a high AP. A bug anywhere in the
chain that leaves every shape and every other test intact (boxes decoded
wrongly, masks cropped at the wrong place, tracks not linked across clips)
shows up here as a low AP.

The tools run in this process, so a deliberate break can be applied to
check that the guard catches it (each is expected to FAIL the test):

    CICO_GUARD_BREAK=tracker pytest tests/test_tools/test_learning_guard.py
    CICO_GUARD_BREAK=crop    pytest tests/test_tools/test_learning_guard.py
    CICO_GUARD_BREAK=boxes   pytest tests/test_tools/test_learning_guard.py

Measured on 2 CPU cores with the checkpoint of one healthy run (mask AP /
AP50 on the 3 videos, 2 clips per step): healthy 45.0 / 75.0; every clip
starting new tracks 0.0 / 0.0; crop boxes with x and y swapped 0.0 / 0.0;
test boxes halved 0.0 / 0.0. The fixture's training takes about 3 minutes on
one thread (175 s for the whole test alone, OMP_NUM_THREADS=1); with 4 clips
per step it reached 55.0 AP but took 285 s. A subtler break, crops mirrored
left-right, scored 42.5 / 50.0 with the 4-clip checkpoint and passes:
objects this large and central still mostly lie in their mirrored box.
"""
import importlib.util
import os
from pathlib import Path

import mmengine
import numpy as np
import pytest
import torch
from pycocotools import mask as mask_utils

from projects.cico.apis import VideoInferencer, init_model
from projects.cico.models.dense_heads import clip_predictor
from projects.cico.models.mask_heads import clip_protonet
from projects.cico.models.trackers.clip_tracker import ClipTracker
from tools import test as test_tool
from tools import train as train_tool
from tools.dataset_converters.synthvis_generator import (SceneSettings,
                                                         generate_synthvis)
from tools.deployment import export_onnx
from tools.model_converters.publish_model import publish

CONFIG = 'configs/cico_yolact_r18_synthvis.py'
REPO_ROOT = Path(__file__).resolve().parents[2]
# 3 videos of 8 frames of 96x160 (the pipelines' scale too), 1-2 large
# objects each; trained and tested on the same videos
DATA = dict(
    train_videos=3,
    val_videos=0,
    frames=(8, 8),
    size=(96, 160),
    seed=0,
    scene=SceneSettings(objects=(1, 2), radius=(0.2, 0.3)))
SCALE = '(160,96)'  # (w, h)
ITERS = 400
BATCH = 2  # clips per step
MIN_AP = 30.0  # healthy: 45; broken tracker / crop / boxes: 0 (see above)

pytestmark = pytest.mark.slow


def _break_tracker(monkeypatch) -> None:
    """Every clip starts new tracks (no linking across clips)."""
    track = ClipTracker.track

    def fresh_ids(self, dets, clip_index, frame_nums):
        dets = track(self, dets, clip_index, frame_nums)
        dets.instances_id = torch.arange(len(dets)) + 1000 * clip_index
        return dets

    monkeypatch.setattr(ClipTracker, 'track', fresh_ids)


def _break_crop(monkeypatch) -> None:
    """Mask crop boxes read as (y1, x1, y2, x2): x and y swapped."""
    crop = clip_protonet.box_crop_regions

    def swapped(boxes, *args, **kwargs):
        return crop(boxes[:, [1, 0, 3, 2]], *args, **kwargs)

    monkeypatch.setattr(clip_protonet, 'box_crop_regions', swapped)


def _break_boxes(monkeypatch) -> None:
    """Decoded test boxes shrunk by half about the image origin."""
    decode = clip_predictor.decode_candidates

    def halved(head, res, *args):
        decode(head, res, *args)
        res.frame_bboxes = res.frame_bboxes / 2
        res.bboxes = res.bboxes / 2

    monkeypatch.setattr(clip_predictor, 'decode_candidates', halved)


BREAKS = dict(tracker=_break_tracker, crop=_break_crop, boxes=_break_boxes)


def _options(root: str) -> list:
    opts = [
        f'{split}_dataloader.dataset.data_root={root}/'
        for split in ('train', 'val', 'test')
    ]
    for split in ('val', 'test'):  # test on the training videos
        opts += [
            f'{split}_dataloader.dataset.ann_file=annotations/train.json',
            f'{split}_dataloader.dataset.data_prefix.img_path='
            'train/JPEGImages'
        ]
    train = 'train_dataloader.dataset.pipeline.1.transforms'
    opts += [f'{train}.2.scale={SCALE}', f'{train}.3.crop_size={SCALE}']
    opts += [
        f'{split}_dataloader.dataset.pipeline.0.transforms.1.scale={SCALE}'
        for split in ('val', 'test')
    ]
    return opts + [
        f'train_dataloader.batch_size={BATCH}',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0',
        'test_dataloader.persistent_workers=False',
        f'train_cfg.max_iters={ITERS}',
        f'train_cfg.val_interval={ITERS + 1}',
        'param_scheduler.1.milestones=[300,360]',
        f'default_hooks.checkpoint.interval={ITERS}',
        'randomness.seed=0',
    ]


@pytest.fixture(scope='module')
def trained(tmp_path_factory) -> dict:
    """The tiny videos and a model trained on them (from scratch)."""
    tmp = tmp_path_factory.mktemp('guard')
    root = str(tmp / 'synthvis')
    generate_synthvis(root, **DATA)
    work = str(tmp / 'work')
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv('CUDA_VISIBLE_DEVICES', '')
        mp.chdir(REPO_ROOT)
        train_tool.main(
            [CONFIG, '--work-dir', work, '--cfg-options', *_options(root)])
    ckpt = f'{work}/iter_{ITERS}.pth'
    published = publish(ckpt, str(tmp / 'guard.pth'), trust=True)
    return dict(root=root, work=work, ckpt=ckpt, published=published)


def test_training_overfits_tiny_videos(trained, tmp_path, monkeypatch):
    broken = os.environ.get('CICO_GUARD_BREAK')
    if broken:
        if broken not in BREAKS:
            pytest.fail(f'CICO_GUARD_BREAK={broken!r}: one of {list(BREAKS)}')
        BREAKS[broken](monkeypatch)
        print(f'[guard] deliberately broken: {broken} (expect a FAIL)')
    monkeypatch.setenv('CUDA_VISIBLE_DEVICES', '')
    monkeypatch.chdir(REPO_ROOT)
    out = str(tmp_path / 'metrics.json')
    test_tool.main([
        CONFIG, trained['published'], '--work-dir',
        str(tmp_path), '--out', out, '--cfg-options',
        *_options(trained['root'])
    ])
    metrics = mmengine.load(out)
    ap = 100 * metrics['youtube_vis/segm_mAP']
    ap50 = 100 * metrics['youtube_vis/segm_mAP_50']
    print(f'[guard] {ITERS} iterations: AP {ap:.1f}, AP50 {ap50:.1f}')
    assert ap >= MIN_AP, (f'AP {ap:.1f} < {MIN_AP} on the training videos '
                          f'(AP50 {ap50:.1f}): the chain does not learn')


def _tracks(inferencer: VideoInferencer, frames_dir: str) -> list:
    """Per frame: (ids, labels, scores, masks (n, H, W) bool), by id."""
    frames = []
    for res in inferencer.stream(frames_dir):
        inst = res.instances
        order = inst.instances_id.argsort()
        frames.append((inst.instances_id[order].tolist(),
                       inst.labels[order].tolist(), inst.scores[order].numpy(),
                       np.asarray(inst.masks)[order.numpy()]))
    return frames


def _compare_tracks(a: list, b: list) -> dict:
    """Frames with the same ids and labels, and the worst score difference
    and mask IoU over the matching instances."""
    same, score_diff, min_iou, num = 0, 0.0, 1.0, 0
    for (ids_a, lab_a, sc_a, m_a), (ids_b, lab_b, sc_b, m_b) in zip(a, b):
        if ids_a != ids_b or lab_a != lab_b:
            continue
        same += 1
        num += len(ids_a)
        if ids_a:
            score_diff = max(score_diff, float(np.abs(sc_a - sc_b).max()))
            inter = (m_a & m_b).reshape(len(ids_a), -1).sum(1)
            union = (m_a | m_b).reshape(len(ids_a), -1).sum(1)
            min_iou = min(min_iou, float((inter / np.maximum(union, 1)).min()))
    return dict(
        frames=len(a),
        same_frames=same,
        instances=num,
        score_diff=score_diff,
        min_iou=min_iou)


def _first_video(trained: dict) -> str:
    return str(
        Path(trained['root']) / 'train' / 'JPEGImages' / 'synth_train_0001')


@pytest.fixture(scope='module')
def fp32_tracks(trained) -> list:
    model = init_model(str(REPO_ROOT / CONFIG), trained['published'], 'cpu')
    frames_dir = _first_video(trained)
    return _tracks(VideoInferencer(model, score_thr=0.1), frames_dir)


def test_bf16_network_gives_the_fp32_tracks(trained, fp32_tracks):
    model = init_model(str(REPO_ROOT / CONFIG), trained['published'], 'cpu')
    frames_dir = _first_video(trained)
    inferencer = VideoInferencer(model, score_thr=0.1, fp16=True)
    assert model.half_precision
    cmp = _compare_tracks(fp32_tracks, _tracks(inferencer, frames_dir))
    print(f'[guard] bf16 vs fp32: {cmp}')
    assert cmp['instances'] > 0
    assert cmp['same_frames'] == cmp['frames'] == 8
    assert cmp['score_diff'] < 0.02 and cmp['min_iou'] > 0.9


def test_onnxruntime_backend_gives_the_pytorch_tracks(trained, fp32_tracks,
                                                      tmp_path):
    pytest.importorskip(
        'onnxruntime',
        reason='onnxruntime missing: pip install -r '
        'requirements/deploy.txt')
    onnx_file = str(tmp_path / 'clip_net.onnx')
    assert export_onnx.main(
        [str(REPO_ROOT / CONFIG), trained['published'], '--out',
         onnx_file]) == 0
    model = init_model(str(REPO_ROOT / CONFIG), trained['published'], 'cpu')
    frames_dir = _first_video(trained)
    inferencer = VideoInferencer(model, score_thr=0.1, onnx_file=onnx_file)
    cmp = _compare_tracks(fp32_tracks, _tracks(inferencer, frames_dir))
    print(f'[guard] onnxruntime vs PyTorch: {cmp}')
    assert cmp['instances'] > 0
    assert cmp['same_frames'] == cmp['frames'] == 8
    assert cmp['score_diff'] < 1e-4 and cmp['min_iou'] > 0.99
    # the demo: the same YouTube-VIS json with both backends
    demo = _load_demo()
    results = {}
    for backend in ('pytorch', 'onnxruntime'):
        out = str(tmp_path / f'{backend}.json')
        extra = ['--onnx', onnx_file] if backend == 'onnxruntime' else []
        assert demo.main([
            frames_dir,
            str(REPO_ROOT / CONFIG), trained['published'], '--device', 'cpu',
            '--score-thr', '0.1', '--out-json', out, '--backend', backend,
            *extra
        ]) == 0
        results[backend] = mmengine.load(out)
    torch_tracks, ort_tracks = results['pytorch'], results['onnxruntime']
    assert len(torch_tracks) == len(ort_tracks) > 0
    for a, b in zip(torch_tracks, ort_tracks):
        assert a['category_id'] == b['category_id']
        assert abs(a['score'] - b['score']) < 1e-4
        for rle_a, rle_b in zip(a['segmentations'], b['segmentations']):
            assert (rle_a is None) == (rle_b is None)
            if rle_a is not None:
                assert mask_utils.iou([rle_a], [rle_b], [0])[0, 0] > 0.99


def _load_demo():
    spec = importlib.util.spec_from_file_location(
        'video_demo', REPO_ROOT / 'tools' / 'demo' / 'video_demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
