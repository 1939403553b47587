"""tools/model_converters/inflate_checkpoint.py: a frame-level checkpoint
in, the untrained CiCo model out (weights only), inflated by the rules of
InflatedPretrained with the config's own options."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from tools.model_converters import inflate_checkpoint

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FIFO = osp.join(ROOT, 'configs', 'synthvis', 'fifo_yolact_r18_stage2_t1.py')
CICO = osp.join(ROOT, 'configs', 'synthvis', 'cico_yolact_r18_stage2_t3.py')


def frame_level_checkpoint(path: str) -> dict:
    """A randomly initialised T = 1 (frame-level) model, saved as a
    weights-only checkpoint; returns its state dict."""
    from mmdet.registry import MODELS

    import projects.cico  # noqa: F401
    cfg = Config.fromfile(FIFO)
    cfg.model.init_cfg = None
    init_default_scope('mmdet')
    torch.manual_seed(0)
    state_dict = MODELS.build(cfg.model).state_dict()
    torch.save(dict(state_dict=state_dict, meta={}), path)
    return state_dict


def test_inflates_into_the_clip_model(tmp_path, capsys):
    src_path, out = str(tmp_path / 'frames.pth'), str(tmp_path / 'cico.pth')
    src = frame_level_checkpoint(src_path)
    assert inflate_checkpoint.main([CICO, src_path, out]) == 0
    assert capsys.readouterr().out.strip().endswith(out)
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    sd = ckpt['state_dict']
    assert ckpt['meta']['inflated_from'] == src_path
    assert torch.equal(sd['backbone.conv1.weight'],
                       src['backbone.conv1.weight'])
    key = 'bbox_head.box_tower.convs.0.conv.weight'
    assert src[key].shape == (32, 32, 3, 3)
    assert sd[key].shape == (32, 32, 3, 3, 3)
    for t in range(3):  # repeated over time and divided by T
        torch.testing.assert_close(sd[key][:, :, t], src[key] / 3)
    key = 'mask_head.proto_tower.convs.0.conv.weight'
    for t, w in enumerate((0.125, 0.75, 0.125)):  # the CMH's weights
        torch.testing.assert_close(sd[key][:, :, t], src[key] * w)
    # box deltas 4 -> 4T within the first anchor's block: frame 0, frame 1
    reg = 'bbox_head.conv_reg.weight'
    assert torch.equal(sd[reg][0:4], src[reg][0:4])
    assert torch.equal(sd[reg][4:8], src[reg][0:4])


def test_keeps_the_configs_inflation_options(tmp_path):
    """--cfg-options reach InflatedPretrained: with the authors' rule
    (box weight not tiled) the box layer keeps its random init; the box
    weight then fits nothing, which is an error unless listed."""
    src_path, out = str(tmp_path / 'frames.pth'), str(tmp_path / 'cico.pth')
    src = frame_level_checkpoint(src_path)
    with pytest.raises(ValueError, match='bbox_head.conv_reg.weight'):
        inflate_checkpoint.main([
            CICO, src_path, out, '--cfg-options',
            'model.init_cfg.tile_box_weights=False'
        ])
    assert inflate_checkpoint.main([
        CICO, src_path, out, '--cfg-options',
        'model.init_cfg.tile_box_weights=False',
        'model.init_cfg.skip_keys=[bbox_head.conv_reg.weight]'
    ]) == 0
    sd = torch.load(out, map_location='cpu', weights_only=True)['state_dict']
    reg = 'bbox_head.conv_reg'
    assert not torch.equal(sd[reg + '.weight'][0:4], src[reg + '.weight'][0:4])
    # the bias is tiled either way
    assert torch.equal(sd[reg + '.bias'][4:8], src[reg + '.bias'][0:4])


def test_a_missing_source_is_named(tmp_path, capsys):
    missing = str(tmp_path / 'nowhere.pth')
    out = str(tmp_path / 'cico.pth')
    assert inflate_checkpoint.main([CICO, missing, out]) == 1
    assert missing in capsys.readouterr().err
    assert not osp.exists(out)
