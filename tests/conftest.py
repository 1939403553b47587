"""Shared test fixtures: import the plugin once, mmdet scope, clip
factories."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import projects.cico  # noqa: F401  (registers the plugin)

# the repository root, as the tools put it on sys.path: tests import the
# data tools (tools.dataset_converters.synthvis_generator) too
REPO_ROOT = str(Path(__file__).resolve().parents[1])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

init_default_scope('mmdet')


def make_clip(t: int = 3,
              h: int = 64,
              w: int = 96,
              objects=None,
              seed: int = 0):
    """A packed training clip as PackTrackInputs makes it.

    ``objects``: list of dicts ``id``, ``label``, ``boxes`` (list of T boxes
    (x1, y1, x2, y2) or None where absent). Masks are the filled boxes.
    Returns ``dict(inputs=uint8 (T, 3, H, W), data_samples=TrackDataSample)``.
    """
    rng = np.random.RandomState(seed)
    objects = objects if objects is not None else [
        dict(
            id=1,
            label=0,
            boxes=[(10 + 2 * k, 12, 40 + 2 * k, 44) for k in range(t)])
    ]
    frames = []
    for k in range(t):
        present = [o for o in objects if o['boxes'][k] is not None]
        boxes = np.array([o['boxes'][k] for o in present],
                         dtype=np.float32).reshape(-1, 4)
        masks = np.zeros((len(present), h, w), dtype=np.uint8)
        for j, b in enumerate(boxes.astype(int)):
            masks[j, b[1]:b[3], b[0]:b[2]] = 1
        sample = DetDataSample(
            metainfo=dict(
                img_shape=(h, w),
                ori_shape=(h, w),
                scale_factor=(1.0, 1.0),
                frame_id=k,
                img_id=k,
                video_id=1,
                ori_video_length=t))
        sample.gt_instances = InstanceData(
            bboxes=torch.from_numpy(boxes),
            labels=torch.tensor([o['label'] for o in present],
                                dtype=torch.long),
            masks=BitmapMasks(masks, h, w),
            instances_ids=torch.tensor([o['id'] for o in present],
                                       dtype=torch.long))
        sample.ignored_instances = InstanceData()
        frames.append(sample)
    track = TrackDataSample()
    track.video_data_samples = frames
    inputs = torch.from_numpy(
        rng.randint(0, 255, (t, 3, h, w)).astype(np.uint8))
    return dict(inputs=inputs, data_samples=track)


@pytest.fixture
def clip_factory():
    """``clip_factory(t, h, w, objects, seed)`` -> one packed clip."""
    return make_clip


def make_synthvis_config(tmp: Path, val_videos: int, frames, **test_cfg):
    """A tiny SynthVIS under ``tmp/synthvis`` (1 train video, 64x96 frames,
    seed 1) and the R18 SynthVIS config pointing at it, dumped to
    ``tmp/cfg.py``. ``model.test_cfg`` gets ``score_thr=0`` and
    ``min_mask_area=0`` (a random model then emits instances), then
    ``test_cfg`` (dotted keys, e.g. ``{'nms.max_per_clip': 5}``).
    Returns ``(cfg, cfg_path, data_root)``."""
    # tools/ is importable once REPO_ROOT is on sys.path (above)
    from tools.dataset_converters.synthvis_generator import generate_synthvis
    root = str(tmp / 'synthvis')
    generate_synthvis(
        root,
        train_videos=1,
        val_videos=val_videos,
        frames=frames,
        size=(64, 96),
        seed=1)
    cfg = Config.fromfile(
        str(Path(REPO_ROOT) / 'configs' / 'cico_yolact_r18_synthvis.py'))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    cfg.merge_from_dict({
        f'model.test_cfg.{k}': v
        for k, v in dict(score_thr=0.0, min_mask_area=0, **test_cfg).items()
    })
    cfg_path = str(tmp / 'cfg.py')
    cfg.dump(cfg_path)
    return cfg, cfg_path, root


@pytest.fixture(scope='session')
def synthvis_config_factory():
    """``synthvis_config_factory(tmp, val_videos, frames, **test_cfg)`` ->
    ``(cfg, cfg_path, data_root)``; see :func:`make_synthvis_config`."""
    return make_synthvis_config


def run_tool(script: str, *args: str, timeout: int = 600):
    """Run ``tools/<script>`` (e.g. ``'analysis_tools/benchmark.py'``) with
    ``args`` in a fresh Python process from the repository root, with the
    root on ``PYTHONPATH`` as the README's commands have it. Returns the
    ``subprocess.CompletedProcess`` (text output captured)."""
    return subprocess.run(
        [sys.executable,
         str(Path(REPO_ROOT) / 'tools' / script), *args],
        cwd=REPO_ROOT,
        env=dict(os.environ, PYTHONPATH=REPO_ROOT),
        capture_output=True,
        text=True,
        timeout=timeout)


@pytest.fixture(scope='session')
def tool_runner():
    """``tool_runner(script, *args, timeout=600)`` -> the finished process;
    see :func:`run_tool`."""
    return run_tool


@pytest.fixture(autouse=True)
def no_inherited_checkpoint_trust(monkeypatch):
    """Trusting checkpoints is an explicit opt-in of one process: a test
    that set it (e.g. the demo's ``--trust-checkpoint`` run in-process) must
    not leak it into the tools the next test starts."""
    monkeypatch.delenv('CICO_TRUST_CHECKPOINTS', raising=False)
