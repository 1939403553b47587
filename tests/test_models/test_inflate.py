"""2D -> 3D inflation of frame-level checkpoints (paper Sec. 4;
docs/reference_implementation.md#initialisation)."""
import copy
import glob
import os.path as osp
import re

import mmdet
import pytest
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from mmengine.config import Config

from projects.cico.models.layers import ClipConvTower
from projects.cico.models.weight_init import inflate as inflation

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SYNTH = osp.join(ROOT, 'configs', 'cico_yolact_r18_synthvis.py')
R50 = osp.join(ROOT, 'configs', 'cico_yolact_r50_ytvis19.py')
# the project's R50 model (mmdet's FPN), into which mmdet's COCO models map
PROJECT_R50 = osp.join(ROOT, 'configs', '_base_', 'models',
                       'cico_yolact_r50_fpn.py')


def tiny_cfg(t, c=16, depth=1):
    """SynthVIS CiCo-Yolact, c channels, towers of ``depth`` convs."""
    m = copy.deepcopy(Config.fromfile(SYNTH).model)
    m.clip_len = t
    m.neck.out_channels = c
    for head in (m.bbox_head, m.mask_head):
        head.in_channels = c
    m.bbox_head.feat_channels = c
    m.bbox_head.stacked_convs = depth
    m.mask_head.proto_channels = c
    m.mask_head.num_proto_convs = depth
    return m


def randomise(model, seed=0):
    """Random weights everywhere, BN statistics and affine included (so
    that copying them matters in eval mode)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, v in model.state_dict().items():
            if v.dtype != torch.float32:
                continue
            if name.endswith('running_var'):
                v.copy_(0.5 + torch.rand(v.shape, generator=g))
            else:
                v.copy_(0.1 * torch.randn(v.shape, generator=g))
    return model


def inflate_into(src_model, dst_model, **kwargs):
    new_sd, report = inflation.inflate_state_dict(src_model.state_dict(),
                                                  dst_model, **kwargs)
    dst_model.load_state_dict(new_sd, strict=False)
    return report


# ------------------------------------------------------------ layers
def nested(path, leaf):
    """A module holding ``leaf`` at the dotted ``path``."""
    root = cur = nn.Module()
    parts = path.split('.')
    for name in parts[:-1]:
        cur.add_module(name, nn.Module())
        cur = getattr(cur, name)
    cur.add_module(parts[-1], leaf)
    return root


@pytest.mark.parametrize('path,taps,edge', [
    ('bbox_head.box_tower', (1 / 3, 1 / 3, 1 / 3), 2 / 3),
    ('mask_head.proto_tower', (0.125, 0.75, 0.125), 0.875),
])
def test_inflated_conv_on_a_static_clip(path, taps, edge):
    """Centre frame = the 2D conv; an edge frame (zero temporal padding)
    sees 2/3 (uniform) or 0.875 (CMH weights) of the kernel."""
    torch.manual_seed(0)
    conv2d = nn.Conv2d(4, 5, 3, padding=1)
    conv3d = nn.Conv3d(4, 5, 3, padding=1)
    src = {f'{path}.weight': conv2d.weight, f'{path}.bias': conv2d.bias}
    target = nested(path, conv3d)
    sd, report = inflation.inflate_state_dict(src, target)
    assert report.counts() == dict(
        loaded=1, inflated=1, tiled=0, skipped=0, new=0)
    for k, tap in enumerate(taps):
        torch.testing.assert_close(sd[f'{path}.weight'][:, :, k],
                                   conv2d.weight.detach() * tap)
    target.load_state_dict(sd)
    frame = torch.randn(1, 4, 6, 7)
    with torch.no_grad():
        out2d = conv2d(frame)
        out3d = conv3d(frame[:, :, None].expand(1, 4, 3, 6, 7))
    torch.testing.assert_close(out3d[:, :, 1], out2d)
    bias = conv2d.bias.detach().view(1, -1, 1, 1)
    torch.testing.assert_close(out3d[:, :, 0], bias + edge * (out2d - bias))


@pytest.mark.parametrize('depth', [1, 2])
def test_inflated_tower_on_a_static_clip(depth):
    """A ClipConvTower of ``depth`` 3D convs reproduces its 2D source at
    the centre frame when the clip has ``depth`` frames on each side."""
    torch.manual_seed(0)
    t = 2 * depth + 1
    tower2d = randomise(ClipConvTower(6, 8, depth, is_3d=False))
    tower3d = ClipConvTower(6, 8, depth, is_3d=True)
    report = inflate_into(tower2d, tower3d)
    assert report.counts() == dict(
        loaded=depth, inflated=depth, tiled=0, skipped=0, new=0)
    frame = torch.randn(1, 6, 5, 7)
    out = tower3d(frame.expand(t, -1, -1, -1), t)
    torch.testing.assert_close(out[depth], tower2d(frame)[0])
    assert not torch.allclose(out[0], out[depth])  # zero temporal padding


@pytest.mark.parametrize('depth', [1, 2])
def test_inflated_model_on_a_static_clip(depth):
    """A whole T=1 CiCo model inflated into T = 2 depth + 1 (T=3 for
    one-conv towers): at the centre frame of a static clip the class
    scores, the boxes of every frame, the mask parameters, quality,
    embeddings and prototypes are the T=1 model's."""
    t = 2 * depth + 1
    torch.manual_seed(0)
    src = randomise(MODELS.build(tiny_cfg(1, depth=depth))).eval()
    dst = MODELS.build(tiny_cfg(t, depth=depth)).eval()
    report = inflate_into(src, dst)
    counts = report.counts()
    # 3D: box and track towers (depth convs each) and CMH (depth convs)
    assert counts['inflated'] == 3 * depth
    assert counts['tiled'] == 2 and counts['skipped'] == 0
    assert counts['new'] == 0
    frame = torch.randn(1, 1, 3, 64, 96)
    with torch.no_grad():
        (cls1, reg1, par1, q1, emb1), (protos1, ) = src._forward(frame)
        (cls, reg, par, q,
         emb), (protos, ) = dst._forward(frame.expand(1, t, -1, -1, -1))
    c = depth  # centre frame
    a = dst.bbox_head.num_base_priors
    for lvl in range(len(cls1)):
        torch.testing.assert_close(cls[lvl][c], cls1[lvl][0])
        for x, x1 in ((par, par1), (q, q1), (emb, emb1)):
            torch.testing.assert_close(x[lvl][c], x1[lvl][0])
        h, w = reg1[lvl].shape[-2:]
        boxes = reg[lvl][c].view(a, t, 4, h, w)  # anchor, frame, delta
        for k in range(t):
            torch.testing.assert_close(boxes[:, k],
                                       reg1[lvl][0].view(a, 4, h, w))
    torch.testing.assert_close(protos[:, :, c], protos1[:, :, 0])
    assert protos1.abs().sum() > 0


def test_box_layer_tiled_per_anchor_and_switch():
    torch.manual_seed(0)
    src = randomise(MODELS.build(tiny_cfg(1)))
    dst = MODELS.build(tiny_cfg(3))
    sd, report = inflation.inflate_state_dict(src.state_dict(), dst)
    b1 = src.state_dict()['bbox_head.conv_reg.bias']  # (3 anchors x 4)
    b3 = sd['bbox_head.conv_reg.bias']  # (3 anchors x 3 frames x 4)
    assert b1.shape == (12, ) and b3.shape == (36, )
    for a in range(3):
        for k in range(3):
            assert torch.equal(b3[12 * a + 4 * k:12 * a + 4 * k + 4],
                               b1[4 * a:4 * a + 4])
    assert not torch.equal(b3, b1.repeat(3))  # not a whole-tensor tile
    assert torch.equal(sd['bbox_head.conv_reg.weight'][12:16],
                       src.state_dict()['bbox_head.conv_reg.weight'][4:8])
    sd, report = inflation.inflate_state_dict(
        src.state_dict(), dst, tile_box_weights=False)
    assert 'bbox_head.conv_reg.weight' not in sd
    assert 'bbox_head.conv_reg.bias' in sd
    assert report.keys('skipped') == ['bbox_head.conv_reg.weight']
    assert 'tile_box_weights=False' in report.note('bbox_head.conv_reg.weight')


def test_authors_loader_tiles_the_box_bias_as_a_whole():
    """box_bias_tiling='whole_tensor': the 12 biases (3 anchors x 4) are
    repeated as one vector, so bias k of the 36 is source bias k mod 12
    (anchor 0's frame-1 deltas get anchor 1's biases), where the per-anchor
    rule gives anchor 0 its own biases in every frame."""
    src = randomise(MODELS.build(tiny_cfg(1)))
    dst = MODELS.build(tiny_cfg(3))
    b1 = src.state_dict()['bbox_head.conv_reg.bias']
    sd, _ = inflation.inflate_state_dict(
        src.state_dict(),
        dst,
        tile_box_weights=False,
        box_bias_tiling='whole_tensor')
    assert torch.equal(sd['bbox_head.conv_reg.bias'], b1.repeat(3))
    assert torch.equal(sd['bbox_head.conv_reg.bias'][4:8], b1[4:8])
    assert 'bbox_head.conv_reg.weight' not in sd
    with pytest.raises(ValueError, match='box_bias_tiling'):
        inflation.inflate_state_dict(
            src.state_dict(), dst, box_bias_tiling='per_frame')


def test_authors_cmh_kernel_weights_the_kernel_width():
    """cmh_temporal_weights='authors_width': the authors' loader multiplies
    the repeated 2D kernel by (0.125, 0.75, 0.125) along its WIDTH, with no
    division by t: w3d[o, i, tau, y, x] = w2d[o, i, y, x] c[x] for every
    tau; the default weights time: w3d[o, i, tau, y, x] = w2d c[tau]."""
    w2d = torch.arange(1., 10.).view(1, 1, 3, 3)
    leaf3d = nn.Conv3d(1, 1, 3, padding=1)
    width = torch.tensor([[0.125, 1.5, 0.375], [0.5, 3.75, 0.75],
                          [0.875, 6., 1.125]])
    time = torch.stack([w2d[0, 0] * c for c in (0.125, 0.75, 0.125)])
    cases = dict(authors_width=torch.stack([width] * 3), default=time)
    for weights, expect in cases.items():
        kwargs = {} if weights == 'default' else dict(
            cmh_temporal_weights=weights)
        status, value, _ = inflation.convert_tensor(
            'mask_head.proto_tower.convs.0.conv.weight', w2d, leaf3d.weight,
            nested('mask_head.proto_tower', leaf3d), **kwargs)
        assert status == 'inflated'
        assert torch.allclose(value[0, 0], expect), weights
    # a 2-frame kernel is not the authors' t = 3 case: 1/t each
    leaf2 = nn.Conv3d(1, 1, (2, 3, 3))
    _, value, _ = inflation.convert_tensor(
        'mask_head.proto_tower.convs.0.conv.weight',
        w2d,
        leaf2.weight,
        nested('mask_head.proto_tower', leaf2),
        cmh_temporal_weights='authors_width')
    assert torch.equal(value[0, 0], torch.stack([w2d[0, 0] / 2] * 2))


def test_temporal_weights_are_configurable():
    torch.manual_seed(0)
    src = randomise(MODELS.build(tiny_cfg(1)))
    dst = MODELS.build(tiny_cfg(3))
    sd, _ = inflation.inflate_state_dict(
        src.state_dict(),
        dst,
        temporal_weights=(0., 1., 0.),
        cmh_temporal_weights=(0.2, 0.6, 0.2))
    w2 = src.state_dict()['mask_head.proto_tower.convs.0.conv.weight']
    w3 = sd['mask_head.proto_tower.convs.0.conv.weight']
    torch.testing.assert_close(w3[:, :, 0], 0.2 * w2)
    torch.testing.assert_close(w3[:, :, 1], 0.6 * w2)
    b2 = src.state_dict()['bbox_head.box_tower.convs.0.conv.weight']
    b3 = sd['bbox_head.box_tower.convs.0.conv.weight']
    assert torch.equal(b3[:, :, 1], b2) and not b3[:, :, 0].any()


@pytest.mark.parametrize('depth', [1, 2])
def test_centre_inflation_is_the_frame_model_on_every_frame(depth):
    """temporal_weights='centre' (and the CMH's): on a clip of different
    frames, the prototypes of every frame and the head outputs of the centre
    frame are the T=1 model's on that frame alone; the authors' weights mix
    the frames."""
    t = 2 * depth + 1
    torch.manual_seed(0)
    src = randomise(MODELS.build(tiny_cfg(1, depth=depth))).eval()
    dst = MODELS.build(tiny_cfg(t, depth=depth)).eval()
    report = inflate_into(
        src, dst, temporal_weights='centre', cmh_temporal_weights='centre')
    assert report.counts()['inflated'] == 3 * depth
    key = 'mask_head.proto_tower.convs.0.conv.weight'
    assert report.note(key) == 'temporal weights 0, 1, 0'  # 3-tap kernels
    clip = torch.randn(1, t, 3, 64, 96)
    with torch.no_grad():
        (cls, _, par, _, _), (protos, ) = dst._forward(clip)
        frames = [src._forward(clip[:, k:k + 1]) for k in range(t)]
    for k, (_, (protos1, )) in enumerate(frames):
        torch.testing.assert_close(protos[:, :, k], protos1[:, :, 0])
    (cls1, _, par1, _, _), _ = frames[depth]
    for lvl in range(len(cls1)):
        torch.testing.assert_close(cls[lvl][depth], cls1[lvl][0])
        torch.testing.assert_close(par[lvl][depth], par1[lvl][0])
    inflate_into(src, dst)  # the authors' weights
    with torch.no_grad():
        _, (mixed, ) = dst._forward(clip)
    assert not torch.allclose(mixed[:, :, depth], protos[:, :, depth])
    with pytest.raises(ValueError, match='odd temporal kernel size, got 2'):
        inflation.temporal_kernel(2, key, None, 'centre')
    with pytest.raises(ValueError, match="or 'centre', got 'center'"):
        inflation.temporal_kernel(3, key, None, 'center')  # not a fallback


# ----------------------------------------------------- the R50 reports
def r50_cfg(t=3, num_classes=40, config=R50):
    cfg = Config.fromfile(config).model
    cfg.backbone.init_cfg = None
    cfg.init_cfg = None
    cfg.clip_len = t
    cfg.bbox_head.num_classes = num_classes
    cfg.mask_head.num_classes = num_classes
    return cfg


@pytest.fixture(scope='module')
def r50_target():
    return MODELS.build(r50_cfg())


def test_report_from_a_coco_cico_model(r50_target):
    """The authors' COCO model as the converter writes it: T=1 CiCo
    keys, 80 classes, no track head."""
    coco = MODELS.build(r50_cfg(t=1, num_classes=80)).state_dict()
    coco = {
        k: v
        for k, v in coco.items()
        if not k.startswith(('bbox_head.track_tower', 'bbox_head.conv_track'))
    }
    sd, report = inflation.inflate_state_dict(coco, r50_target)
    print(inflation.format_inflation_report(report, 'coco fixture'))
    counts = report.counts()
    total = len(r50_target.state_dict())
    assert counts == dict(
        loaded=total - 21, inflated=7, tiled=2, skipped=2, new=12)
    assert report.source == 'cico'
    assert sorted(report.keys('skipped')) == [
        'bbox_head.conv_cls.bias', 'bbox_head.conv_cls.weight'
    ]
    assert 'class count differs' in report.note('bbox_head.conv_cls.weight')
    assert sorted(report.keys('inflated')) == [
        f'bbox_head.box_tower.convs.{i}.conv.weight' for i in range(4)
    ] + [f'mask_head.proto_tower.convs.{i}.conv.weight' for i in range(3)]
    new = report.keys('new')
    assert sum('bbox_head.track_tower' in k or 'conv_track' in k
               for k in new) == 10  # 4 convs + layer, w and b
    text = inflation.format_inflation_report(report)
    for status, n in counts.items():
        assert re.search(rf'\| {status} +\| +{n} \|', text), status
    assert len(sd) == total - 12


def test_report_from_mmdet_yolact():
    """mmdet's COCO YOLACT R50 key set (random weights: no download)."""
    cfg = Config.fromfile(  # mmdet::yolact/yolact_r50_1xb8-55e_coco.py
        osp.join(
            osp.dirname(mmdet.__file__), '.mim', 'configs', 'yolact',
            'yolact_r50_1xb8-55e_coco.py'))
    assert tuple(cfg.model.bbox_head.anchor_generator.ratios) == \
        inflation.MMDET_YOLACT_RATIOS
    cfg.model.backbone.init_cfg = None
    yolact = MODELS.build(cfg.model).state_dict()
    assert inflation.source_format(yolact) == 'mmdet_yolact'
    r50_target = MODELS.build(r50_cfg(config=PROJECT_R50))
    sd, report = inflation.inflate_state_dict(yolact, r50_target)
    print(
        inflation.format_inflation_report(report, 'mmdet yolact_r50 (random)'))
    n_bb_neck = sum(k.startswith(('backbone.', 'neck.')) for k in yolact)
    counts = report.counts()
    # loaded: backbone + FPN, cls tower conv 0 (w, b), box tower conv 0
    # bias, conv_coeff (w, b), proto_conv weight, proto_out (w, b)
    assert counts['loaded'] == n_bb_neck + 8
    # box tower conv 0 and the three CMH tower convs
    assert counts['inflated'] == 4
    assert counts['tiled'] == 2  # box layer weight and bias
    # class layer (243 vs 120 outputs) x2, segm branch x2, protonet
    # biases of the BN-followed convs (0, 2, 4, 8)
    assert counts['skipped'] == 8
    assert counts['new'] == len(r50_target.state_dict()) - len(sd)
    assert report.note('bbox_head.box_tower.convs.0.conv.weight') == \
        'temporal weights 1/3 each'
    assert report.note('mask_head.proto_tower.convs.0.conv.weight') == \
        'temporal weights 0.125, 0.75, 0.125'
    # anchors reordered: our ratios 1, 2, 0.5 <- mmdet's 0.5, 1, 2
    coeff = yolact['bbox_head.conv_coeff.weight']
    ours = sd['bbox_head.conv_coeff.weight']
    for a, src_a in enumerate((1, 2, 0)):
        assert torch.equal(ours[32 * a:32 * a + 32],
                           coeff[32 * src_a:32 * src_a + 32])
    reg = sd['bbox_head.conv_reg.bias']
    assert torch.equal(reg[:4], yolact['bbox_head.conv_reg.bias'][4:8])
    assert torch.equal(sd['mask_head.proto_out.weight'],
                       yolact['mask_head.protonet.10.weight'])
    text = inflation.format_inflation_report(report)
    for i, j in ((0, 0), (1, 2), (2, 4)):  # mmdet's ReLUs interleave
        assert f'mask_head.proto_tower.convs.{i}.conv.weight <- ' \
            f'mask_head.protonet.{j}.weight' in text
    assert 'mask_head.proto_conv.conv has no bias' in text


def test_anchor_reordering_follows_the_heads_declaration(monkeypatch):
    """mmdet YOLACT's anchors (ratios 0.5, 1, 2) are reordered in exactly
    the layers the CPH declares anchor-major (``ANCHOR_LAYERS``)."""
    from projects.cico.models.dense_heads.clip_head import CiCoClipHead
    target = MODELS.build(tiny_cfg(3))
    assert inflation.anchor_layers(target) == tuple(
        f'bbox_head.{n}.' for n in ('conv_cls', 'conv_reg', 'conv_coeff',
                                    'conv_quality', 'conv_track'))
    coeff = torch.arange(3 * 32, dtype=torch.float).view(96, 1, 1, 1)
    src = {'bbox_head.conv_coeff.weight': coeff.expand(96, 16, 3, 3)}
    mapped, _ = inflation.map_source_keys(src, target, 'mmdet_yolact')
    first = mapped['bbox_head.conv_coeff.weight'][1][:, 0, 0, 0]
    assert first[:32].tolist() == list(range(32, 64))  # ratio 1 first
    monkeypatch.setattr(CiCoClipHead, 'ANCHOR_LAYERS', ('conv_cls', ))
    mapped, _ = inflation.map_source_keys(src, target, 'mmdet_yolact')
    first = mapped['bbox_head.conv_coeff.weight'][1][:, 0, 0, 0]
    assert first[:32].tolist() == list(range(32))  # not declared: as is


@pytest.mark.parametrize('gn', [False, True])
def test_report_from_mmdet_condinst(gn):
    """mmdet's COCO CondInst R50 key set: backbone and FPN; its FCOS
    towers (trained with GN) only into towers with GN."""
    cfg = Config.fromfile(
        osp.join(
            osp.dirname(mmdet.__file__), '.mim', 'configs', 'condinst',
            'condinst_r50_fpn_ms-poly-90k_coco_instance.py'))
    cfg.model.backbone.init_cfg = None
    condinst = MODELS.build(cfg.model).state_dict()
    assert inflation.source_format(condinst) == 'mmdet_condinst'
    target = Config.fromfile(R50.replace('yolact', 'condinst')).model
    target.backbone.init_cfg = None
    target.init_cfg = None
    if gn:
        target.bbox_head.tower_norm_cfg = dict(type='GN', num_groups=32)
    sd, report = inflation.inflate_state_dict(condinst, MODELS.build(target))
    counts = report.counts()
    n_bb_neck = sum(k.startswith(('backbone.', 'neck.')) for k in condinst)
    # towers: 4 convs x (weight + GN weight and bias) per tower
    assert counts['loaded'] == n_bb_neck + (20 if gn else 0)
    assert counts['inflated'] == (4 if gn else 0)  # box tower weights
    assert counts['tiled'] == 0
    note = report.note('bbox_head.reg_convs.0.conv.weight') if not gn \
        else report.note('bbox_head.box_tower.convs.0.conv.weight')
    assert note == ('temporal weights 1/3 each' if gn else
                    'trained with GroupNorm; this tower has no GN (set '
                    'bbox_head.tower_norm_cfg to use it)')
    assert 'bbox_head.controller.weight' in report.keys('skipped')
    assert len(sd) == counts['loaded'] + counts['inflated']


# ------------------------------------------------------ config entry
def test_inflated_pretrained_init_cfg(tmp_path):
    """``model.init_cfg`` of type InflatedPretrained: the children's own
    init (Xavier heads, Kaiming backbone) does not overwrite it."""
    torch.manual_seed(0)
    src = randomise(MODELS.build(tiny_cfg(1)))
    path = str(tmp_path / 'coco_t1.pth')
    torch.save(dict(state_dict=src.state_dict()), path)
    cfg = tiny_cfg(3)
    cfg.init_cfg = dict(
        type='InflatedPretrained',
        checkpoint=[str(tmp_path / 'missing.pth'), path])
    model = MODELS.build(cfg)
    model.init_weights()
    ref, _ = inflation.inflate_state_dict(src.state_dict(), model)
    got = model.state_dict()
    for key, value in ref.items():
        assert torch.equal(got[key], value), key
    cfg.init_cfg.checkpoint = [str(tmp_path / 'missing.pth')]
    with pytest.raises(FileNotFoundError):
        MODELS.build(cfg).init_weights()
    cfg.init_cfg.skip_missing = True
    MODELS.build(cfg).init_weights()  # warns, keeps the other init


def test_resolve_checkpoint_and_authors_keys(tmp_path):
    local = tmp_path / 'a.pth'
    local.write_bytes(b'')
    url = 'https://example.org/b.pth'
    assert inflation.resolve_checkpoint([str(tmp_path / 'x.pth'), url]) == url
    assert inflation.resolve_checkpoint([str(local), url]) == str(local)
    assert inflation.resolve_checkpoint([str(tmp_path / 'x.pth')]) is None
    with pytest.raises(ValueError, match='convert'):
        inflation.source_format(
            {'prediction_layers.conf_layer.weight': torch.ones(1)})


def test_converter_initialised_tensors_stay_new(tmp_path):
    """Tensors the converter initialised itself (a COCO model's track
    head, ``meta.cico_converter.initialised``) are not inflated."""
    src = randomise(MODELS.build(tiny_cfg(1)))
    state = src.state_dict()
    track = [k for k in state if k.startswith('bbox_head.track_tower.')]
    path = str(tmp_path / 'coco_mmdet.pth')
    torch.save(
        dict(
            state_dict=state,
            meta=dict(cico_converter=dict(initialised=track))), path)
    loaded = inflation.load_source_state_dict(path)
    assert set(loaded) == set(state) - set(track) and len(track) == 2
    _, report = inflation.inflate_state_dict(loaded, MODELS.build(tiny_cfg(3)))
    assert set(track) <= set(report.keys('new'))
    assert not any('track_tower' in k for k in report.keys('inflated'))


REAL = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', 'cico_*.py'))
    if 'synthvis' not in p)


@pytest.mark.parametrize('path', REAL, ids=osp.basename)
def test_real_configs_inflate_the_authors_coco_model(path):
    """The authors' recipe starts from their converted COCO model only
    (no mmdet fallback), skipping what their loader skipped."""
    cfg = Config.fromfile(path)
    init = cfg.model.init_cfg
    assert init.type == 'InflatedPretrained' and cfg.load_from is None
    # e.g. checkpoints/resnet50_coco_yolact_mmdet.pth for cico_yolact_r50_*
    _, model, arch = osp.basename(path).split('_')[:3]
    arch = dict(r50='resnet50', r101='resnet101').get(arch, arch)
    assert init.checkpoint == f'checkpoints/{arch}_coco_{model}_mmdet.pth'
    assert not init.get('skip_missing', False)
    assert init.skip_keys == [
        'bbox_head.conv_cls.*', 'bbox_head.conv_reg.weight'
    ]
    assert init.get('check_trained_with', True)


@pytest.fixture(scope='module')
def authors_coco_r50(tmp_path_factory):
    """The authors' COCO CiCo-Yolact R50 as the converter writes it: random
    tensors with their exact keys and shapes (tests/data fixture)."""
    from tools.model_converters import cico_official_to_mmdet as conv
    from tools.model_converters.make_reference_key_fixture import (
        load_fixture, random_state_dict)
    state = random_state_dict(load_fixture()['yolact_r50_coco'])
    ckpt, _, _ = conv.convert_checkpoint(
        conv.normalise_keys(state), 'resnet50_coco_yolact.pth')
    path = str(tmp_path_factory.mktemp('coco') / 'resnet50_coco_yolact.pth')
    torch.save(ckpt, path)
    return path


def main_r50(checkpoint, **model):
    """The main R50 config's model, initialised from ``checkpoint`` (the
    backbone's own ImageNet init off: no download here)."""
    cfg = Config.fromfile(R50).model
    cfg.backbone.init_cfg = None
    cfg.init_cfg.checkpoint = checkpoint
    cfg.update(model)
    return MODELS.build(cfg)


def test_authors_coco_model_initialises_the_main_config(authors_coco_r50):
    """Nothing skipped but what the authors' loader skipped: the class layer
    (80 COCO classes vs 40) and the box layer's weight (4 vs 4T deltas per
    anchor, left Xavier); their P6 conv loads into the authors' FPN."""
    model = main_r50(authors_coco_r50)
    model.init_weights()
    init = inflation.InflatedPretrained(
        authors_coco_r50, **{
            k: v
            for k, v in Config.fromfile(R50).model.init_cfg.items()
            if k not in ('type', 'checkpoint')
        })
    init(main_r50(authors_coco_r50))
    report = init.report
    assert sorted(report.keys('skipped')) == [
        'bbox_head.conv_cls.bias', 'bbox_head.conv_cls.weight',
        'bbox_head.conv_reg.weight'
    ]
    loaded = report.keys('loaded')
    assert 'neck.fpn_convs.3.conv.weight' in loaded  # P6 from P5
    src = torch.load(authors_coco_r50, weights_only=False)['state_dict']
    got = model.state_dict()
    assert torch.equal(got['neck.fpn_convs.3.conv.weight'],
                       src['neck.fpn_convs.3.conv.weight'])
    # the box bias tiled as a whole vector (T = 3): 12 -> 36
    assert torch.equal(got['bbox_head.conv_reg.bias'],
                       src['bbox_head.conv_reg.bias'].repeat(3))


def test_mismatching_normalisation_or_neck_is_refused(authors_coco_r50):
    """The project's normalisation (mmdet's RGB statistics) or mmdet's FPN
    (P6 from C5) with the authors' COCO model: refused, naming the file."""
    project = Config.fromfile(PROJECT_R50).model
    model = main_r50(
        authors_coco_r50, data_preprocessor=project.data_preprocessor)
    with pytest.raises(ValueError) as err:
        model.init_weights()
    msg = str(err.value)
    assert 'resnet50_coco_yolact.pth' in msg
    assert 'mean: checkpoint [103.53, 116.28, 123.675], model ' \
        '[123.675, 116.28, 103.53]' in msg
    assert 'check_trained_with=False' in msg
    model = main_r50(authors_coco_r50, neck=project.neck)
    with pytest.raises(
            ValueError, match='neck: checkpoint ReferenceFPN, '
            'model FPN'):
        model.init_weights()
    # the check off: the same file loads (what the user asked for)
    model = main_r50(authors_coco_r50, neck=project.neck)
    model.init_cfg.check_trained_with = False
    model.init_cfg.skip_keys.append('neck.fpn_convs.3.conv.weight')
    model.init_weights()


def test_unlisted_skipped_tensor_is_an_error(authors_coco_r50):
    """A checkpoint tensor that fits nothing and is not in skip_keys."""
    model = main_r50(authors_coco_r50)
    model.init_cfg.skip_keys = ['bbox_head.conv_cls.*']
    with pytest.raises(
            ValueError,
            match=r'1 tensor\(s\) of .*resnet50_coco_yolact.pth fit nothing '
            r'in the model: bbox_head.conv_reg.weight \(box weight'):
        model.init_weights()
