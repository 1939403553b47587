"""``tools/model_converters/cico_official_to_mmdet.py``.

The authors' files are not available here: ``tests/data/
cico_reference_keys.json.gz`` holds every key and shape of their state dicts
for 18 variants (``{yolact,condinst}_{r50,r101,swint}_{yt19,ovis,coco}``;
written by ``tools/model_converters/make_reference_key_fixture.py``), which
the tests fill with random values. Each variant must convert and load
strictly into its config (the main config of the variant; configs/reference
for the COCO models), with its tensors where they belong.
The conversion rules themselves (BN folding, the OVIS background move,
anchor order and channel layout) are checked against hand computations.
"""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet.registry import TASK_UTILS

from projects.cico.models.dense_heads.clip_predictor import flatten_anchor_maps
from tools.model_converters import cico_official_to_mmdet as conv
from tools.model_converters.make_reference_key_fixture import (
    DEFAULT_OUT, load_fixture, random_state_dict)

FIXTURE = load_fixture()
CONFIGS = osp.join(conv.REPO_ROOT, 'configs')
BUFFERS = ('running_mean', 'running_var', 'num_batches_tracked',
           'relative_position_index')
FIRST_CLASSES = dict(
    yt19=('person', 'giant_panda'),
    ovis=('person', 'bird'),
    coco=('person', 'bicycle'))


def variant(name: str) -> conv.Variant:
    return conv.Variant(*name.split('_'))


def file_name(name: str) -> str:
    """The authors' file name of a variant: cico_yolact_r50_yt19_f3.pth,
    cico_CondInst_r50_yt19_f3.pth, cico_condinst_r101_ovis_f3.pth,
    resnet50_coco_yolact.pth."""
    v = variant(name)
    if v.data == 'coco':
        arch = dict(r50='resnet50', r101='resnet101').get(v.arch, v.arch)
        return f'{arch}_coco_{v.mask}.pth'
    mask = 'CondInst' if v.mask == 'condinst' and v.data != 'ovis' else v.mask
    return f'cico_{mask}_{v.arch}_{v.data}_f3.pth'


def convert(name: str, state=None, filename=None, config=None):
    state = random_state_dict(FIXTURE[name]) if state is None else state
    return state, conv.convert_checkpoint(
        conv.normalise_keys(state), filename or file_name(name), config)


def test_fixture_is_small_and_complete():
    assert osp.getsize(DEFAULT_OUT) < 32 * 1024
    assert len(FIXTURE) == 18
    counts = {n: len(k) for n, k in FIXTURE.items()}
    # the authors' state dicts: R50 419, R101 725, Swin-T 290 tensors; the
    # COCO models lack the 10 track-head tensors
    assert counts['yolact_r50_yt19'] == counts['condinst_r50_ovis'] == 419
    assert counts['condinst_r101_yt19'] == 725
    assert counts['yolact_swint_ovis'] == 290
    assert counts['yolact_r50_coco'] == 409
    assert counts['condinst_swint_coco'] == 280


@pytest.mark.parametrize('name', list(FIXTURE))
def test_variant_converts_and_loads_strictly(name):
    state, (checkpoint, model, report) = convert(name)
    missing, unexpected = conv.load_strictly(model, checkpoint)
    assert missing == [] and unexpected == []
    coco = name.endswith('coco')
    assert report['converted'] == len(state)  # every tensor used
    # 3 refine + 3 prototype convs + the 3x3 prototype conv feed a BN
    assert report['folded'] == 7
    assert report['initialised'] == (10 if coco else 0)
    assert report['written'] == len(model.state_dict())
    # parameters: the file's, less the folded biases, plus the COCO track
    # head the file lacks
    folded = sum(
        v.numel() for k, v in state.items()
        if not k.startswith('backbone.') and conv.map_key(k)[1] == 'fold')
    new = sum(checkpoint['state_dict'][k].numel()
              for k in checkpoint['meta']['cico_converter']['initialised'])
    params = sum(v.numel() for k, v in state.items()
                 if not k.endswith(BUFFERS))
    assert sum(p.numel() for p in model.parameters()) == \
        params - folded + new
    check_values(name, state, model.state_dict())
    classes = checkpoint['meta']['dataset_meta']['classes']
    assert len(classes) == variant(name).num_classes
    assert classes[:2] == FIRST_CLASSES[variant(name).data]


def check_values(name: str, state: dict, ours: dict) -> None:
    """A tensor of every kind of rule, read back from the loaded model."""

    def same(our_key, their_key):
        assert torch.equal(ours[our_key], state[their_key]), our_key

    same('neck.lateral_convs.2.conv.weight', 'fpn.lat_layers.0.weight')
    same('neck.lateral_convs.0.conv.bias', 'fpn.lat_layers.2.bias')
    same('neck.fpn_convs.2.conv.weight', 'fpn.pred_layers.0.weight')
    same('neck.fpn_convs.4.conv.weight', 'fpn.downsample_layers.1.weight')
    same('mask_head.refine.1.conv.weight', 'ProtoNet.mask_refine.1.0.weight')
    same('mask_head.proto_tower.convs.2.conv.weight',
         'ProtoNet.proto_net.6.weight')
    same('mask_head.proto_out.weight', 'ProtoNet.proto_conv.3.weight')
    same('bbox_head.box_tower.convs.3.conv.bias',
         'prediction_layers.bbox_extra.6.bias')
    same('bbox_head.conv_coeff.weight', 'prediction_layers.mask_layer.weight')
    same('bbox_head.conv_reg.bias', 'prediction_layers.bbox_layer.bias')
    folded = ours['mask_head.proto_tower.convs.1.bn.running_mean']
    assert torch.allclose(
        folded, state['ProtoNet.proto_net.4.running_mean'] -
        state['ProtoNet.proto_net.3.bias'])
    cls = state['prediction_layers.conf_layer.bias']
    if name.endswith('ovis'):  # background: slot 0 -> slot 25 per anchor
        blocks = cls.view(3, 26)
        cls = torch.cat([blocks[:, 1:], blocks[:, :1]], 1).flatten()
    assert torch.equal(ours['bbox_head.conv_cls.bias'], cls)
    if name.endswith('coco'):
        assert 'prediction_layers.track_layer.weight' not in state
    else:
        same('bbox_head.conv_track.weight',
             'prediction_layers.track_layer.weight')
    if '_swint_' in name:
        same('backbone.patch_embed.projection.weight',
             'backbone.patch_embed.proj.weight')
        same('backbone.stages.2.blocks.5.attn.w_msa.qkv.weight',
             'backbone.layers.2.blocks.5.attn.qkv.weight')
        same('backbone.stages.3.blocks.1.ffn.layers.1.weight',
             'backbone.layers.3.blocks.1.mlp.fc2.weight')
        same('backbone.norm3.weight', 'backbone.norm3.weight')
    else:
        same('backbone.layer3.5.conv2.weight',
             'backbone.layer.2.5.conv2.weight')
        same('backbone.layer1.0.downsample.1.running_var',
             'backbone.layer.0.0.downsample.1.running_var')


def test_bn_folding_keeps_the_bn_output():
    """``BN(conv(x) + b)`` of the authors' refine block equals our
    bias-free conv followed by the BN with ``running_mean - b``."""
    torch.manual_seed(0)
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.BatchNorm2d(4)).eval()
    bn = theirs[1]
    bn.weight.data = torch.tensor([1.5, 0.5, -1.0, 2.0])
    bn.bias.data = torch.tensor([0.1, -0.2, 0.3, 0.0])
    bn.running_mean.data = torch.tensor([0.4, -0.1, 0.2, 1.0])
    bn.running_var.data = torch.tensor([0.5, 2.0, 1.0, 0.25])
    theirs[0].bias.data = torch.tensor([0.3, -0.7, 0.05, 1.0])
    state = {
        f'ProtoNet.mask_refine.0.{k}': v
        for k, v in theirs.state_dict().items()
    }
    out, _ = conv.convert_state_dict(state, variant('yolact_r50_yt19'))
    ours = ConvModule(3, 4, 3, padding=1, norm_cfg=dict(type='BN')).eval()
    ours.load_state_dict({
        k[len('mask_head.refine.0.'):]: v
        for k, v in out.items()
    })
    assert ours.conv.bias is None
    # running_mean - bias, by hand
    assert ours.bn.running_mean.tolist() == pytest.approx(
        [0.1, 0.6, 0.15, 0.0])
    x = torch.randn(2, 3, 5, 7)
    assert torch.allclose(ours(x), F.relu(theirs(x)), atol=1e-6)
    # one output by hand: channel 1 at a position where conv(x) = c
    c = F.conv2d(x, theirs[0].weight)[0, 1, 0, 0].item()  # 3x3 window
    expected = 0.5 * (c - 0.7 + 0.1) / math.sqrt(2.0 + 1e-5) - 0.2
    with torch.no_grad():
        assert ours(x)[0, 1, 1, 1].item() == pytest.approx(
            max(expected, 0.), abs=1e-5)


def test_ovis_background_moves_to_the_last_channel_of_every_anchor():
    """Authors: anchor a's block is channels 26a..26a+25 with the
    background at 26a and class k (1-based) at 26a+k. Ours (mmdet's
    softmax): label k-1 at 26a+k-1, background at 26a+25."""
    bias = torch.arange(78.)
    moved = conv.move_softmax_background(bias, 25)
    for a in range(3):
        for label in range(25):
            assert moved[26 * a + label] == 26 * a + label + 1
        assert moved[26 * a + 25] == 26 * a
    weight = torch.arange(78.).view(78, 1, 1, 1).expand(78, 2, 3, 3)
    assert torch.equal(
        conv.move_softmax_background(weight, 25)[:, 0, 0, 0], moved)
    # through the head's flattening: anchor 0 is background, anchor 1 says
    # class 7 (label 6), anchor 2 class 25 (label 24)
    logits = torch.zeros(78)
    logits[0], logits[26 + 7], logits[52 + 25] = 5., 5., 5.
    maps = conv.move_softmax_background(logits, 25).view(1, 78, 1, 1)
    labels = flatten_anchor_maps([maps], 26)[0].softmax(-1).argmax(-1)
    assert labels.tolist() == [25, 6, 24]  # 25 = mmdet's background


def authors_priors(featmap_sizes, input_hw):
    """The authors' priors in pixels (x1, y1, x2, y2): per level, row,
    column and ratio in [1, 0.5, 2] (w / h); centre (i + 0.5) / w_l, side
    3 cells scaled by sqrt(ratio), normalised by each level's map size."""
    big_h, big_w = input_hw
    boxes = []
    for h, w in featmap_sizes:
        for j in range(h):
            for i in range(w):
                for ar in (1, 0.5, 2):
                    cx, cy = (i + 0.5) / w, (j + 0.5) / h
                    bw, bh = 3 * math.sqrt(ar) / w, 3 / math.sqrt(ar) / h
                    boxes.append([(cx - bw / 2) * big_w, (cy - bh / 2) * big_h,
                                  (cx + bw / 2) * big_w,
                                  (cy + bh / 2) * big_h])
    return torch.tensor(boxes)


def test_authors_anchor_order_is_mmdets_at_the_reference_input():
    """ratios [1, 0.5, 2] as w / h == mmdet ratios [1.0, 2.0, 0.5] as h / w,
    same order (level, y, x, ratio): no channel reordering is needed. The
    sizes agree because 384 x 640 is a multiple of 128."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(CONFIGS, 'cico_yolact_r50_ytvis19.py'))
    generator = TASK_UTILS.build(cfg.model.bbox_head.anchor_generator)
    assert list(generator.ratios) == [1.0, 2.0, 0.5]
    sizes = [(384 // s, 640 // s) for s in (8, 16, 32, 64, 128)]
    ours = torch.cat(generator.grid_priors(sizes, device='cpu'))
    theirs = authors_priors(sizes, (384, 640))
    assert ours.shape == theirs.shape == (15345, 4)
    assert torch.allclose(ours, theirs, atol=1e-3)
    # e.g. the tall second anchor at P3 (0, 0): 24 / sqrt(2) x 24 * sqrt(2)
    assert ours[1].tolist() == pytest.approx([
        4 - 6 * math.sqrt(2), 4 - 12 * math.sqrt(2), 4 + 6 * math.sqrt(2),
        4 + 12 * math.sqrt(2)
    ],
                                             abs=1e-4)


def test_prediction_layers_are_anchor_major_frame_major():
    """Channel c of a final layer belongs to anchor c // X in both models;
    the 4T box deltas of an anchor are (t0: dx dy dw dh, t1: ...)."""
    channels = torch.arange(36.).view(1, 36, 1, 1).expand(1, 36, 2, 2)
    flat = flatten_anchor_maps([channels], 12)[0]  # (2 * 2 * 3, 12)
    assert flat.shape == (12, 12)
    for loc in range(4):
        for a in range(3):
            assert flat[3 * loc + a].tolist() == list(
                range(12 * a, 12 * a + 12))
    deltas = flat.view(-1, 3, 4)  # the head's (anchor, frame, coordinate)
    assert deltas[4, 2].tolist() == [20., 21., 22., 23.]  # anchor 1, t = 2


def test_legacy_names_and_distributed_prefix():
    t = torch.zeros(1)
    state = conv.normalise_keys({
        'module.prediction_layers.0.conf_layer.weight':
        t,
        'module.proto_net.0.weight':
        t,
        'mask_refine.1.0.bias':
        t,
        'proto_conv.3.bias':
        t,
        'fpn.lat_layers.0.weight':
        t
    })
    assert list(state) == [
        'prediction_layers.conf_layer.weight', 'ProtoNet.proto_net.0.weight',
        'ProtoNet.mask_refine.1.0.bias', 'ProtoNet.proto_conv.3.bias',
        'fpn.lat_layers.0.weight'
    ]


def test_unknown_key_is_an_error():
    state = random_state_dict(FIXTURE['yolact_r50_yt19'])
    state['prediction_layers.extra_layer.weight'] = torch.zeros(3)
    with pytest.raises(
            conv.ConversionError,
            match=r"unknown key 'prediction_layers\.extra_layer"):
        convert('yolact_r50_yt19', state)
    state = random_state_dict(FIXTURE['yolact_r50_yt19'])
    state['ProtoNet.proto_net.2.weight'] = torch.zeros(3)  # a ReLU slot
    with pytest.raises(conv.ConversionError, match='proto_net.2.weight'):
        convert('yolact_r50_yt19', state)


def test_shape_mismatch_names_key_shapes_and_what_to_pass():
    """A COCO Swin-T Yolact with 192 FPN channels (the authors' COCO config)
    against the 256-channel reference config."""
    keys = [(k,
             s if k.startswith('backbone.') else tuple(192 if d == 256 else d
                                                       for d in s))
            for k, s in FIXTURE['yolact_swint_coco']]
    state = random_state_dict(keys)
    with pytest.raises(conv.ConversionError) as err:
        convert('yolact_swint_coco', state)
    msg = str(err.value)
    assert (
        'fpn.lat_layers.0.weight -> neck.lateral_convs.2.conv.weight: '
        '[192, 768, 1, 1] in the file, [256, 768, 1, 1] in the model') in msg
    assert 'swint_coco_yolact.py' in msg and 'Pass --config' in msg


def test_youtube_vis_year_needs_the_file_name_or_config():
    state = random_state_dict(FIXTURE['yolact_r50_yt19'])
    with pytest.raises(conv.ConversionError) as err:
        convert('yolact_r50_yt19', state, filename='my_cico_yolact_r50.pth')
    msg = str(err.value)
    assert 'configs/cico_yolact_r50_ytvis19.py' in msg
    assert 'configs/cico_yolact_r50_ytvis21.py' in msg and '--config' in msg
    config = osp.join(CONFIGS, 'cico_yolact_r50_ytvis21.py')
    _, (checkpoint, model, report) = convert('yolact_r50_yt19', state,
                                             'my_cico_yolact_r50.pth', config)
    assert report['variant'] == 'yolact_r50_yt'
    assert checkpoint['meta']['dataset_meta']['classes'][0] == 'airplane'


def test_file_name_that_contradicts_the_tensors_is_an_error():
    state = random_state_dict(FIXTURE['condinst_r50_yt19'])
    with pytest.raises(
            conv.ConversionError,
            match="says mask 'yolact' but its tensors are 'condinst'"):
        convert('condinst_r50_yt19', state, 'cico_yolact_r50_yt19_f3.pth')


def test_command_line(tmp_path, capsys):
    """File in, file out, strict load; a COCO frame-level model (T = 1)."""
    src = str(tmp_path / 'swint_coco_condinst.pth')
    dst = str(tmp_path / 'converted.pth')
    torch.save(random_state_dict(FIXTURE['condinst_swint_coco']), src)
    assert conv.main([src, dst]) == 0
    out = capsys.readouterr().out.splitlines()
    out = out[next(i for i, line in enumerate(out)
                   if 'tensors converted' in line):]
    assert out[0] == '280 tensors converted, 0 missing, 0 unexpected'
    assert 'configs/reference/swint_coco_condinst.py' in out[1]
    assert out[2].startswith('  10 tensors initialised, not converted')
    checkpoint = torch.load(dst, weights_only=False)
    meta = checkpoint['meta']
    assert len(meta['dataset_meta']['classes']) == 80
    assert meta['cico_converter']['variant'] == 'condinst_swint_coco'
    # what the authors' model normalised with, and its neck
    assert meta['trained_with'] == dict(
        mean=[103.53, 116.28, 123.675],
        std=[57.375, 57.12, 58.395],
        channel_swap=True,
        neck='ReferenceFPN')
    assert len(checkpoint['state_dict']) == 283  # 280 - 7 folded + 10 new
    # an error is one line on stderr and exit code 1
    assert conv.main([dst, str(tmp_path / 'again.pth')]) == 1
    assert 'mmengine checkpoint already' in capsys.readouterr().err


def test_head_must_declare_the_authors_final_layers_anchor_major(monkeypatch):
    """The converter copies the authors' final layers channel for channel,
    which is right only for layers the head declares anchor-major."""
    from projects.cico.models.dense_heads.clip_head import CiCoClipHead
    assert set(CiCoClipHead.ANCHOR_LAYERS) == set(conv.FINAL.values())
    monkeypatch.setattr(CiCoClipHead, 'ANCHOR_LAYERS',
                        ('conv_cls', 'conv_reg', 'conv_coeff', 'conv_track'))
    with pytest.raises(
            conv.ConversionError,
            match=r"the authors' final layers map to .*'conv_quality'"):
        convert('yolact_r50_yt19')
