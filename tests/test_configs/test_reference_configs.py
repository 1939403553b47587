"""configs/reference: one config per checkpoint of the authors, each its real
config plus the reference-mode switches, and the switches checked against
hand computations (normalisation, prototype upsampling, Gaussian
coordinates, the fit-and-pad test resize, the authors' tracker and
post-processing)."""
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
CONFIGS = sorted(glob.glob(osp.join(REFERENCE, '*.py')))
# the authors' published VIS checkpoints (T = 3)
PUBLISHED = [
    'cico_yolact_r50_yt19_f3', 'cico_CondInst_r50_yt19_f3',
    'cico_CondInst_r101_yt19_f3', 'cico_CondInst_swint_yt19_f3',
    'cico_yolact_r50_yt21_f3', 'cico_yolact_r101_yt21_f3',
    'cico_CondInst_r50_yt21_f3', 'cico_CondInst_r101_yt21_f3',
    'cico_CondInst_swint_yt21_f3', 'cico_yolact_r50_ovis_f3',
    'cico_yolact_r101_ovis_f3', 'cico_condinst_r101_ovis_f3'
]
COCO = {'resnet50': 'r50', 'resnet101': 'r101', 'swint': 'swint'}
DATA = dict(yt19='ytvis19', yt21='ytvis21', ovis='ovis')
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


def real_config(stem: str) -> str:
    """The real config a reference config inherits."""
    parts = stem.split('_')
    if parts[1] == 'coco':  # e.g. resnet50_coco_yolact
        name = f'cico_{parts[2]}_{COCO[parts[0]]}_ytvis19'
    else:  # e.g. cico_CondInst_r50_yt19_f3
        name = f'cico_{parts[1].lower()}_{parts[2]}_{DATA[parts[3]]}'
    return osp.join(ROOT, 'configs', name + '.py')


def test_every_checkpoint_has_its_config():
    stems = {osp.basename(p)[:-3] for p in CONFIGS}
    assert set(PUBLISHED) <= stems
    for arch in COCO:
        for mask in ('yolact', 'condinst'):
            assert f'{arch}_coco_{mask}' in stems
    assert len(stems) == 24  # 18 VIS variants (12 published) + 6 COCO


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.basename(p)[:-3] for p in CONFIGS])
def test_reference_config_is_its_real_config_plus_the_switches(path):
    stem = osp.basename(path)[:-3]
    ref = parse(path)
    expected = parse(real_config(stem)).to_dict()
    model = expected['model']
    model['data_preprocessor'].update(
        mean=[103.53, 116.28, 123.675],
        std=[57.375, 57.12, 58.395],
        bgr_to_rgb=True)
    model['neck'].update(REF_NECK)
    model['tracker'] = REF_TRACKER  # replaced, not merged
    # the authors' post-processing, merged into the real test_cfg
    model['test_cfg']['postprocess'] = 'reference'
    model['test_cfg']['clip_boxes_to_frame'] = False
    model['mask_head']['proto_upsample'] = dict(
        mode='bilinear', align_corners=True)
    if 'condinst' in stem.lower():
        model['mask_head']['mask_fcn']['rel_coords'] = 'gaussian'
    if '_coco_' in stem:  # T = 1, frame-level, 80 classes
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
    for evaluator in (ref.val_evaluator, ref.test_evaluator):
        assert evaluator.aggregate_over == 'clips'
        assert evaluator.type == 'CiCoVISMetric'
    pipeline = ref.test_dataloader.dataset.pipeline
    assert pipeline == ref.val_dataloader.dataset.pipeline
    assert pipeline[0]['transforms'][1] == dict(
        type='Resize', scale=(640, 384), keep_ratio=True)
    use_sigmoid = ref.model.bbox_head.loss_cls.use_sigmoid
    assert use_sigmoid == ('ovis' not in stem)  # OVIS: softmax
    if '_coco_' in stem:
        assert ref.test_dataloader.dataset.clip_len == 1
        assert ref.train_dataloader.dataset.clip_len == 1


def reference_cfg() -> Config:
    return parse(osp.join(REFERENCE, 'cico_CondInst_r50_yt19_f3.py'))


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
    """The main configs (the authors' recipe) and so the reference configs
    use the authors' post-processing; the project's recipe (the SynthVIS
    configs) keeps ours (tests/test_models/test_reference_postprocess.py
    checks its behaviour)."""
    cfg = reference_cfg().model.test_cfg
    assert cfg.postprocess == 'reference' and cfg.nms_pre == 300
    real = parse(real_config('cico_CondInst_r50_yt19_f3')).model.test_cfg
    assert real.postprocess == 'reference'
    ours = parse(osp.join(ROOT, 'configs',
                          'cico_condinst_r18_synthvis.py')).model.test_cfg
    assert ours.get('postprocess', 'cico') == 'cico'
