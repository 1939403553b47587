"""Shared test fixtures: import the plugin once, mmdet scope, clip
factories."""
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmdet.structures import DetDataSample, TrackDataSample
from mmdet.structures.mask import BitmapMasks
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


@pytest.fixture(autouse=True)
def no_inherited_checkpoint_trust(monkeypatch):
    """Trusting checkpoints is an explicit opt-in of one process: a test
    that set it (e.g. the demo's ``--trust-checkpoint`` run in-process) must
    not leak it into the tools the next test starts."""
    monkeypatch.delenv('CICO_TRUST_CHECKPOINTS', raising=False)
