"""tools/demo/video_demo.py without a model: options, the checkpoint trust
opt-in, and the drawing switches it passes to the visualizer."""
import importlib.util
import os
import os.path as osp
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from projects.cico.visualization.draw import draw_frame
from tests.tool_output import usage_error

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def load_demo():
    spec = importlib.util.spec_from_file_location(
        'video_demo', osp.join(ROOT, 'tools', 'demo', 'video_demo.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


demo = load_demo()


def test_parse_args_outputs_and_device(capsys):
    args = demo.parse_args(['v.mp4', 'c.py', 'k.pth', '--out-json', 'r.json'])
    assert args.out_json == 'r.json' and args.out is None
    assert args.device == ('cuda' if torch.cuda.is_available() else 'cpu')
    assert not (args.no_boxes or args.no_labels or args.no_scores)
    args = demo.parse_args(
        ['v.mp4', 'c.py', 'k.pth', '--out-masks', 'd', '--device', 'cpu'])
    assert args.out_masks == 'd' and args.device == 'cpu'
    assert not (args.fuse_conv_bn or args.channels_last)
    args = demo.parse_args([
        'v.mp4', 'c.py', 'k.pth', '--show', '--fuse-conv-bn', '--channels-last'
    ])
    assert args.fuse_conv_bn and args.channels_last
    err = usage_error(capsys, demo.parse_args, ['v.mp4', 'c.py', 'k.pth'])
    assert 'error: nothing to do: give --out, --show, --out-json and/or ' \
        '--out-masks' in err


def test_track_labels_switch_nms_and_json(tmp_path, monkeypatch, capsys):
    """--track-labels K: the model's clip NMS becomes class-agnostic (other
    NMS keys kept) and the json has K labels per track."""
    ckpt = tmp_path / 'k.pth'
    ckpt.write_bytes(b'x')
    model = SimpleNamespace(
        dataset_meta=dict(classes=('a', 'b')),
        test_cfg=dict(nms=dict(iou_thr=0.4)))
    seen = {}

    class FakeInferencer:

        def __init__(self, m, **kwargs):
            seen['nms'] = dict(m.test_cfg['nms'])

        def stream_frames(self, frames):
            return iter(())

        def to_vis_json(self, **kwargs):
            seen['json'] = kwargs
            return []

    monkeypatch.setattr(demo.cico_apis, 'open_source', lambda s: ([], None))
    monkeypatch.setattr(demo.cico_apis, 'init_model', lambda *a: model)
    monkeypatch.setattr(demo.cico_apis, 'VideoInferencer', FakeInferencer)
    out = str(tmp_path / 'r.json')
    demo.main(['v.mp4', 'c.py', str(ckpt), '--out-json', out])
    assert seen == dict(
        nms=dict(iou_thr=0.4), json=dict(video_id=1, labels_per_track=None))
    demo.main(
        ['v.mp4', 'c.py',
         str(ckpt), '--out-json', out, '--track-labels', '6'])
    assert seen == dict(
        nms=dict(iou_thr=0.4, class_agnostic=True),
        json=dict(video_id=1, labels_per_track=6))
    assert 'error: --track-labels needs K >= 1' in usage_error(
        capsys, demo.parse_args,
        ['v.mp4', 'c.py', 'k.pth', '--show', '--track-labels', '0'])


def test_video_name():
    assert demo.video_name('/data/clips/cat.mp4') == 'cat'
    assert demo.video_name('/data/frames/dog/') == 'dog'
    assert demo.video_name('0') == 'camera0'


@pytest.mark.parametrize('trust', [False, True])
def test_trust_checkpoint_sets_env_before_loading(tmp_path, monkeypatch,
                                                  trust):
    ckpt = tmp_path / 'k.pth'
    ckpt.write_bytes(b'x')
    monkeypatch.delenv('CICO_TRUST_CHECKPOINTS', raising=False)
    monkeypatch.setattr(demo.cico_apis, 'open_source', lambda s: ([], None))
    seen = {}

    def fake_init_model(*args, **kwargs):
        seen['env'] = os.environ.get('CICO_TRUST_CHECKPOINTS')
        raise RuntimeError('stop')

    monkeypatch.setattr(demo.cico_apis, 'init_model', fake_init_model)
    argv = ['v.mp4', 'c.py', str(ckpt), '--out-json', 'r.json']
    with pytest.raises(RuntimeError, match='stop'):
        demo.main(argv + (['--trust-checkpoint'] if trust else []))
    assert seen['env'] == ('1' if trust else None)


def test_hide_switches_change_the_drawing():
    img = np.full((40, 60, 3), 50, np.uint8)
    masks = np.zeros((1, 40, 60), bool)
    masks[0, 20:30, 20:30] = True
    kw = dict(
        bboxes=np.array([[15., 15., 45., 35.]]),
        labels=np.array([0]),
        ids=np.array([3]),
        masks=masks,
        classes=('cat', ),
        scores=np.array([0.9]))
    full = draw_frame(img, **kw)
    variants = {
        k: draw_frame(img, **kw, **{k: False})
        for k in ('show_boxes', 'show_labels', 'show_scores')
    }
    for k, drawn in variants.items():
        assert not np.array_equal(drawn, full), k
    # all hidden: only the mask is painted, nothing outside it changes
    bare = draw_frame(
        img, **kw, show_boxes=False, show_labels=False, show_scores=False)
    assert np.array_equal(bare[~masks[0]], img[~masks[0]])
    assert not np.array_equal(bare[masks[0]], img[masks[0]])
    # hiding the boxes keeps the text: the box outline pixels differ only
    assert np.array_equal(variants['show_boxes'][20:], bare[20:])
