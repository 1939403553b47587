"""The authors' network and test-time switches in the main configs (which
load the authors' converted VIS checkpoints) and in configs/reference (their
frame-level COCO models), checked against hand-written values and hand
computations (normalisation, prototype upsampling, Gaussian coordinates, the
fit-and-pad test resize, the authors' tracker and post-processing)."""
import glob
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmcv.transforms import Compose
from mmdet.registry import MODELS
from mmdet.structures import DetDataSample, TrackDataSample
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
REFERENCE = osp.join(ROOT, 'configs', 'reference')
COCO_CONFIGS = sorted(glob.glob(osp.join(REFERENCE, '*.py')))
# the main configs, one per variant of the authors (18; the authors
# published 12 of them)
MAIN_CONFIGS = [
    osp.join(ROOT, 'configs', f'cico_{mask}_{arch}_{data}.py')
    for mask in ('yolact', 'condinst') for arch in ('r50', 'r101', 'swint')
    for data in ('ytvis19', 'ytvis21', 'ovis')
]
COCO = {'resnet50': 'r50', 'resnet101': 'r101', 'swint': 'swint'}
AUTHORS_PREPROCESSOR = dict(
    mean=[103.53, 116.28, 123.675],
    std=[57.375, 57.12, 58.395],
    bgr_to_rgb=True)
REF_NECK = dict(
    type='ReferenceFPN',
    add_extra_convs='on_output',
    relu_before_extra_convs=False,
    upsample_cfg=dict(mode='bilinear', align_corners=False))
# the authors' greedy tracker with propagated lost tracks replaces ours
REF_TRACKER = dict(
    type='ReferenceClipTracker',
    match_weights=dict(embed=1.0, mask=0.5, box=0.5, label=0.3),
    score_weight=0.1,
    overlap_iou_scale=2.0,
    new_track_embed=0.5,
    new_track_iou=0.3,
    small_new_track_iou=0.15,
    small_area_ratio=0.1,
    min_mask_area=2,
    num_clips_output=None,
    score_decay=0.9,
    min_output_score=0.1,
    min_output_mask_area=3,
    lost_crop_expand=1.2)
_PARSED = {}


def parse(path: str) -> Config:
    if path not in _PARSED:
        _PARSED[path] = Config.fromfile(path)
    return _PARSED[path]


def main_config(coco_stem: str) -> str:
    """The main config a COCO config inherits (resnet50_coco_yolact ->
    cico_yolact_r50_ytvis19)."""
    arch, _, mask = coco_stem.split('_')
    return osp.join(ROOT, 'configs', f'cico_{mask}_{COCO[arch]}_ytvis19.py')


def test_every_authors_file_has_its_config():
    assert all(osp.isfile(p) for p in MAIN_CONFIGS)
    stems = {osp.basename(p)[:-3] for p in COCO_CONFIGS}
    assert stems == {
        f'{arch}_coco_{mask}'
        for arch in COCO
        for mask in ('yolact', 'condinst')
    }


def check_authors_switches(model: dict, condinst: bool) -> None:
    """The authors' network and test-time switches, as literals."""
    pre = model['data_preprocessor']
    assert {k: pre[k] for k in AUTHORS_PREPROCESSOR} == AUTHORS_PREPROCESSOR
    assert {k: model['neck'][k] for k in REF_NECK} == REF_NECK
    assert model['tracker'] == REF_TRACKER  # replaced, not merged
    assert model['test_cfg']['postprocess'] == dict(
        type='ReferencePostProcessor')
    assert model['test_cfg']['clip_boxes_to_frame'] is False
    assert model['mask_head']['proto_upsample'] == dict(
        mode='bilinear', align_corners=True)
    rel = model['mask_head'].get('mask_fcn', {}).get('rel_coords')
    assert (rel == 'gaussian') == condinst


@pytest.mark.parametrize(
    'path', MAIN_CONFIGS, ids=[osp.basename(p)[:-3] for p in MAIN_CONFIGS])
def test_main_config_has_the_authors_switches(path):
    cfg = parse(path)
    check_authors_switches(cfg.model.to_dict(), 'condinst' in path)
    for evaluator in (cfg.val_evaluator, cfg.test_evaluator):
        assert evaluator.aggregate_over == 'clips'
        assert evaluator.type == 'CiCoVISMetric'
    pipeline = cfg.test_dataloader.dataset.pipeline
    assert pipeline == cfg.val_dataloader.dataset.pipeline
    assert pipeline[0]['transforms'][1] == dict(
        type='Resize', scale=(640, 384), keep_ratio=True)
    use_sigmoid = cfg.model.bbox_head.loss_cls.use_sigmoid
    assert use_sigmoid == ('ovis' not in path)  # OVIS: softmax


@pytest.mark.parametrize(
    'path', MAIN_CONFIGS, ids=[osp.basename(p)[:-3] for p in MAIN_CONFIGS])
def test_main_config_trains_the_authors_recipe(path):
    """Every training switch of docs/training_recipe.md at the authors'
    value, as literals: losses and matcher, initialisation, data, epoch
    and schedule."""
    cfg = parse(path)
    m = cfg.model
    assert m.train_cfg.assigner.type == 'ForcedMatchAssigner'
    assert (m.train_cfg.assigner.window, m.train_cfg.assigner.small_boost,
            m.train_cfg.assigner.force_min_overlap) == (0, 1.05, 0.225)
    assert (m.train_cfg.anchors_in_batch_padding, m.train_cfg.box_iou_coords,
            m.train_cfg.clamp_quality_target,
            m.train_cfg.track_loss_avg) == (True, 'batch_normalized', False,
                                            'all_clips')
    head = m.bbox_head
    assert head.bbox_coder.type == 'UnclampedDeltaXYWHBBoxCoder'
    assert head.loss_diou.eps == 1e-7
    assert head.loss_quality.type == 'QualityBCELoss'
    assert head.prediction_init == 'xavier'
    assert m.mask_head.box_rounding == 'truncate'
    assert (m.mask_head.loss_mask.outside_crop,
            m.mask_head.loss_mask.avg_over) == ('zero_probability',
                                                'all_clips')
    init = m.init_cfg
    assert (init.tile_box_weights, init.box_bias_tiling,
            init.cmh_temporal_weights) == (False, 'whole_tensor',
                                           'authors_width')
    loader = cfg.train_dataloader
    assert loader.sampler == dict(type='KeyFrameSampler')
    assert loader.batch_sampler is None and loader.batch_size == 6
    assert (loader.dataset.box_corners,
            loader.dataset.redraw_empty_clips) == ('inclusive', 10)
    sample, broadcast = loader.dataset.pipeline[:2]
    assert sample == dict(type='ClipFrameSample', neighbours_with_objects=True)
    steps = broadcast['transforms']
    assert steps[0]['to_float32'] is True  # float frames
    assert steps[2] == dict(type='RandomFlip', prob=0.5, direction='vertical')
    assert steps[3] == dict(type='Resize', scale=(640, 384), keep_ratio=True)
    assert steps[4]['type'] == 'ClipExpand' and \
        steps[4]['scale_range'] == (0.5, 1.5)
    assert 'PhotoMetricDistortion' not in [t['type'] for t in steps]
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.momentum, opt.weight_decay) == ('SGD', 1e-3,
                                                                  0.9, 1e-4)
    assert 'clip_grad' not in cfg.optim_wrapper
    warmup, steps = cfg.param_scheduler
    assert (warmup.type, warmup.start_factor, warmup.end) == ('LinearLR', 0.1,
                                                              500)
    assert steps.milestones == [9] and cfg.train_cfg.max_epochs == 12


@pytest.mark.parametrize(
    'path', COCO_CONFIGS, ids=[osp.basename(p)[:-3] for p in COCO_CONFIGS])
def test_coco_config_is_its_main_config_at_t1(path):
    stem = osp.basename(path)[:-3]
    ref = parse(path)
    model = parse(main_config(stem)).to_dict()['model']
    check_authors_switches(ref.model.to_dict(), 'condinst' in stem)
    # T = 1, frame-level, 80 classes
    model['clip_len'] = 1
    model['bbox_head'].update(
        num_classes=80,
        cls_tower_3d=False,
        box_tower_3d=False,
        track_tower_3d=False,
        regress_clip_boxes=False)
    model['mask_head'].update(num_classes=80, is_3d=False)
    model['test_cfg']['nms_pre'] = 100  # min(100 T, 300)
    assert ref.model.to_dict() == model
    assert ref.test_dataloader.dataset.clip_len == 1
    assert ref.train_dataloader.dataset.clip_len == 1
    assert ref.test_evaluator.aggregate_over == 'clips'


def reference_cfg() -> Config:
    return parse(osp.join(ROOT, 'configs', 'cico_condinst_r50_ytvis19.py'))


def test_normalisation_is_the_authors_bgr_quirk():
    """The authors subtract the RGB-ordered mean/std from BGR channels,
    then swap to RGB."""
    preprocessor = MODELS.build(reference_cfg().model.data_preprocessor)
    bgr = torch.tensor([[10., 200., 123.], [0., 50., 255.]])  # 2 pixels
    frame = bgr.t().reshape(3, 1, 2)  # (B G R, 1, 2)
    sample = TrackDataSample()
    sample.video_data_samples = [
        DetDataSample(metainfo=dict(img_shape=(1, 2), ori_shape=(1, 2)))
    ]
    out = preprocessor(dict(inputs=[frame[None]],
                            data_samples=[sample]))['inputs']
    authors_mean = torch.tensor([123.675, 116.28, 103.53])  # on B, G, R
    authors_std = torch.tensor([58.395, 57.12, 57.375])
    expected_bgr = (bgr - authors_mean) / authors_std
    expected_rgb = expected_bgr.flip(1)  # then permuted to RGB
    assert torch.allclose(out[0, 0, :, 0, :2].t(), expected_rgb)
    # pixel 0: R = 123 -> (123 - 103.53) / 57.375, B = 10 -> (10 -
    # 123.675) / 58.395
    assert out[0, 0, 0, 0, 0].item() == pytest.approx(0.339346, abs=1e-5)
    assert out[0, 0, 2, 0, 0].item() == pytest.approx(-1.946656, abs=1e-5)


def test_fit_and_pad_test_resize(tmp_path):
    """16:9 -> 640 x 360 and 4:3 -> 512 x 384, both padded bottom/right to
    640 x 384 with a value that is 0 after normalisation; img_shape keeps
    the unpadded size (the mask head crops the padding with it)."""
    cfg = reference_cfg()
    frame_transforms = Compose(
        cfg.test_dataloader.dataset.pipeline[0]['transforms'])
    preprocessor = MODELS.build(cfg.model.data_preprocessor)
    for (h, w), (new_h, new_w) in (((720, 1280), (360, 640)), ((480, 640),
                                                               (384, 512))):
        path = str(tmp_path / f'{w}x{h}.png')
        cv2.imwrite(path, np.full((h, w, 3), (10, 20, 30), np.uint8))
        res = frame_transforms(dict(img_path=path))
        assert res['img'].shape == (384, 640, 3)
        assert tuple(res['img_shape']) == (new_h, new_w)
        assert tuple(res['pad_shape'][:2]) == (384, 640)
        assert res['scale_factor'] == pytest.approx((new_w / w, new_h / h))
        img = torch.from_numpy(res['img']).permute(2, 0, 1)
        assert img[:, :new_h, :new_w].tolist() == [[[10.] * new_w] * new_h,
                                                   [[20.] * new_w] * new_h,
                                                   [[30.] * new_w] * new_h]
        mean, std = preprocessor.mean.view(3, 1,
                                           1), preprocessor.std.view(3, 1, 1)
        normalised = (img[[2, 1, 0]] - mean) / std  # the model's input
        padded = torch.ones(384, 640, dtype=torch.bool)
        padded[:new_h, :new_w] = False
        assert padded.sum() == 640 * 384 - new_w * new_h
        assert normalised[:, padded].abs().max() == 0


def test_prototype_upsampling_is_the_authors_trilinear_align_corners():
    """The CMH's x2 upsampling with the reference switch: per frame
    ``src = i * (h - 1) / (2 h - 1)``, i.e. the authors' trilinear
    x(1, 2, 2) with align_corners=True."""
    cfg = reference_cfg().model.mask_head
    assert cfg.proto_upsample == dict(mode='bilinear', align_corners=True)
    head = MODELS.build(
        dict(
            type='ClipProtoNet',
            num_classes=1,
            in_channels=2,
            proto_channels=2,
            num_protos=2,
            clip_len=3,
            proto_upsample=cfg.proto_upsample)).eval()
    seen = {}
    head.proto_tower.register_forward_hook(
        lambda m, i, o: seen.update(tower=o))
    head.proto_conv.register_forward_hook(
        lambda m, i, o: seen.update(upsampled=i[0]))
    feats = [torch.randn(3, 2, 8 >> k, 12 >> k) for k in range(4)]
    with torch.no_grad():
        head(feats)
    tower, upsampled = seen['tower'], seen['upsampled']  # (T, C, h, w)
    cube = tower.transpose(0, 1)[None]  # (1, C, T, h, w)
    trilinear = F.interpolate(
        cube, scale_factor=(1, 2, 2), mode='trilinear', align_corners=True)
    assert torch.allclose(upsampled, trilinear[0].transpose(0, 1), atol=1e-6)
    # by hand along one row: width 12 -> 24, src = i * 11 / 23
    row = tower[0, 0, 0]
    src = torch.arange(24) * 11 / 23
    lo = src.floor().long().clamp(max=10)
    by_hand = row[lo] + (src - lo) * (row[lo + 1] - row[lo])
    assert torch.allclose(upsampled[0, 0, 0], by_hand, atol=1e-5)
    # the same numbers on a ramp: [0, 1, 4] -> [0, .4, .8, 1.6, 2.8, 4]
    ramp = torch.tensor([0., 1., 4.]).view(1, 1, 1, 3)
    up = F.interpolate(ramp, scale_factor=(1, 2), **cfg.proto_upsample)
    assert up[0, 0, 0].tolist() == \
        pytest.approx([0., .4, .8, 1.6, 2.8, 4.])


def test_gaussian_coordinates():
    """One coordinate channel: exp(-(dx^2 / sx^2 + dy^2 / sy^2) / 2)
    around the box centre's pixel, sigma = 1.5 x box side; 161 mask
    parameters."""
    fcn = MODELS.build(reference_cfg().model.mask_head.mask_fcn)
    assert fcn.num_params == 161 == (8 + 1) * 8 + 8 * 8 + 8 + 17
    box = torch.tensor([[2., 1., 6., 5.]])  # 4 x 4, centre (4, 3)
    coords = fcn.coord_maps(box, (8, 10))
    assert coords.shape == (1, 1, 8, 10)
    # centre pixel (x 4, y 3), sigma 6: pixel (x 7, y 0) is 3 px off in x
    # and y -> exp(-0.5 * (0.25 + 0.25))
    assert coords[0, 0, 3, 4].item() == pytest.approx(1.)
    assert coords[0, 0, 0, 7].item() == pytest.approx(np.exp(-0.25))
    assert coords[0, 0, 3, 0].item() == pytest.approx(np.exp(-0.5 * 16 / 36))


def test_reference_tracker_is_the_authors():
    """The greedy tracker with lost tracks output for max(3, 15 // T) = 5
    clips at T = 3 (tests/test_models/test_reference_clip_tracker.py
    checks its behaviour)."""
    tracker = MODELS.build(reference_cfg().model.tracker)
    assert type(tracker).__name__ == 'ReferenceClipTracker'
    assert tracker.clips_to_output(reference_cfg().model.clip_len) == 5
    assert tracker.score_weight == 0.1 and tracker.lost_crop_expand == 1.2


def test_reference_postprocess_switch():
    """The main configs (the authors' recipe) use the authors'
    post-processing; the project's recipe (the SynthVIS configs) keeps ours
    (tests/test_models/test_reference_postprocess.py checks its
    behaviour)."""
    cfg = reference_cfg().model.test_cfg
    assert cfg.postprocess == dict(
        type='ReferencePostProcessor') and cfg.nms_pre == 300
    ours = parse(osp.join(ROOT, 'configs',
                          'cico_condinst_r18_synthvis.py')).model.test_cfg
    assert ours.postprocess == dict(type='ClipNMSPostProcessor')
