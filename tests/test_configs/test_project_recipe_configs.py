"""configs/project_recipe: the project's own recipe next to the authors'
(the main configs), each difference of docs/departures.md as a value, and
its mmdet COCO initialisation: it loads into the project's network with the
listed skips, and the authors' network refuses it."""
import glob
import os.path as osp

import mmdet
import pytest
import torch
from mmdet.registry import MODELS
from mmengine.config import Config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(ROOT, 'configs', 'project_recipe')
CONFIGS = sorted(glob.glob(osp.join(PROJECT, 'cico_*.py')))
MMDET_CONFIGS = osp.join(osp.dirname(mmdet.__file__), '.mim', 'configs')
MMDET_COCO = dict(
    yolact=osp.join(MMDET_CONFIGS, 'yolact', 'yolact_r50_1xb8-55e_coco.py'),
    condinst=osp.join(MMDET_CONFIGS, 'condinst',
                      'condinst_r50_fpn_ms-poly-90k_coco_instance.py'))


def test_one_per_r50_variant_named_as_its_main_config():
    names = [osp.basename(p) for p in CONFIGS]
    assert names == sorted(f'cico_{m}_r50_{d}.py'
                           for m in ('yolact', 'condinst')
                           for d in ('ytvis19', 'ytvis21', 'ovis'))
    assert all(osp.isfile(osp.join(ROOT, 'configs', n)) for n in names)


@pytest.mark.parametrize('path', CONFIGS, ids=osp.basename)
def test_project_recipe_differs_from_the_authors_as_documented(path):
    cfg = Config.fromfile(path)
    main = Config.fromfile(osp.join(ROOT, 'configs', osp.basename(path)))
    model = cfg.model
    # network: mmdet's RGB normalisation and FPN
    assert model.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert model.neck.type == 'FPN'
    # losses and matcher: the project's
    assert model.train_cfg.assigner.type == 'CircumscribedBoxAssigner'
    assert model.train_cfg.get('box_iou_coords', 'pixels') == 'pixels'
    assert model.bbox_head.bbox_coder.type == 'DeltaXYWHBBoxCoder'
    assert model.mask_head.get('box_rounding', 'none') == 'none'
    # test time: clip Fast NMS, one-to-one tracker, per-frame aggregation
    assert model.test_cfg.postprocess == dict(type='ClipNMSPostProcessor')
    assert model.tracker.type == 'ClipTracker'
    assert cfg.test_evaluator.get('aggregate_over', 'frames') == 'frames'
    # data: mmdet's augmentation, epoch and corners
    loader = cfg.train_dataloader
    assert loader.sampler.type == 'TrackImgSampler'
    assert loader.batch_sampler.type == 'TrackAspectRatioBatchSampler'
    assert loader.dataset.box_corners == 'exclusive'
    assert loader.dataset.redraw_empty_clips == 0
    steps = [t['type'] for t in loader.dataset.pipeline[1]['transforms']]
    assert steps[2:] == [
        'RandomResize', 'RandomCrop', 'FilterEmptyInstances', 'RandomFlip',
        'PhotoMetricDistortion'
    ]
    # the paper's LR steps; optimiser, batch and epochs as the main config
    assert cfg.param_scheduler[1].milestones == [8, 10]
    assert main.param_scheduler[1].milestones == [9]
    assert cfg.optim_wrapper == main.optim_wrapper
    assert loader.batch_size == main.train_dataloader.batch_size == 6
    # same dataset and classes as the main config
    assert loader.dataset.type == main.train_dataloader.dataset.type
    assert loader.dataset.ann_file == main.train_dataloader.dataset.ann_file
    assert model.bbox_head.num_classes == main.model.bbox_head.num_classes
    assert model.bbox_head.loss_cls == main.model.bbox_head.loss_cls
    # mmdet's COCO model, nothing else
    assert model.init_cfg.checkpoint.startswith(
        'https://download.openmmlab.com/mmdetection/')


@pytest.fixture(scope='module', params=['yolact', 'condinst'])
def mmdet_coco(request, tmp_path_factory):
    """mmdet's COCO model of the mask FCN, random weights (no download),
    saved as a checkpoint."""
    cfg = Config.fromfile(MMDET_COCO[request.param]).model
    cfg.backbone.init_cfg = None
    torch.manual_seed(0)
    path = str(tmp_path_factory.mktemp('mmdet') / f'{request.param}.pth')
    torch.save(dict(state_dict=MODELS.build(cfg).state_dict()), path)
    return request.param, path


def build(config: str, checkpoint: str):
    cfg = Config.fromfile(config).model
    cfg.backbone.init_cfg = None  # no ImageNet download here
    cfg.init_cfg.checkpoint = checkpoint
    return MODELS.build(cfg)


def test_mmdet_coco_model_initialises_the_project_recipe(mmdet_coco):
    mask, path = mmdet_coco
    model = build(osp.join(PROJECT, f'cico_{mask}_r50_ytvis19.py'), path)
    model.init_weights()
    src = torch.load(path, weights_only=False)['state_dict']
    got = model.state_dict()
    # the FPN's P6 conv (from C5 in mmdet's and the project's FPN) loads
    key = 'neck.fpn_convs.3.conv.weight'
    assert torch.equal(got[key], src[key])
    assert torch.equal(got['backbone.layer4.2.conv3.weight'],
                       src['backbone.layer4.2.conv3.weight'])


def test_authors_recipe_refuses_mmdets_coco_model(mmdet_coco):
    """The main config lists only what the authors' loader skipped; mmdet's
    model leaves other tensors without a place (YOLACT's segmentation
    branch, CondInst's FCOS head)."""
    mask, path = mmdet_coco
    model = build(
        osp.join(ROOT, 'configs', f'cico_{mask}_r50_ytvis19.py'), path)
    with pytest.raises(ValueError, match='fit nothing in the model') as err:
        model.init_weights()
    msg = str(err.value)
    if mask == 'yolact':
        # segmentation branch (w, b), P6 from C5 (the authors' FPN takes
        # P5), four protonet biases
        assert '7 tensor(s)' in msg
        assert 'mask_head.segm_branch.segm_conv.weight' in msg
        assert ('neck.fpn_convs.3.conv.weight (shape [256, 2048, 3, 3] vs '
                '[256, 256, 3, 3])') in msg
    else:
        # the FCOS towers (GroupNorm), distances, centerness, controller,
        # scales and mask branch: all but the backbone and the FPN
        assert '86 tensor(s)' in msg and 'and 78 more' in msg
        assert 'bbox_head.cls_convs.0.conv.weight (trained with GroupNorm' \
            in msg
