# CiCo-CondInst R50 on OVIS (paper: 18.0 mask AP). 25 classes; softmax CE with
# 3:1 OHEM instead of the focal loss
# (docs/reference_implementation.md#sample-matching).
_base_ = [
    './_base_/models/cico_condinst_r50_fpn.py', './_base_/datasets/ovis.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
num_classes = 25
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# the first path, else mmdet's COCO CondInst (backbone, FPN; its FCOS towers
# only with bbox_head.tower_norm_cfg=dict(type='GN', num_groups=32), as they
# were trained with GroupNorm).
coco_checkpoints = [
    'checkpoints/resnet50_coco_condinst_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v3.0/condinst/condinst_r50_fpn_ms-poly-90k_coco_instance/condinst_r50_fpn_ms-poly-90k_coco_instance_20221129_125223-4c186406.pth'  # noqa: E501
]
model = dict(
    init_cfg=dict(type='InflatedPretrained', checkpoint=coco_checkpoints),
    bbox_head=dict(
        num_classes=num_classes,
        loss_cls=dict(
            _delete_=True,
            type='CrossEntropyLoss',
            use_sigmoid=False,
            reduction='none',
            loss_weight=5.0)),
    mask_head=dict(num_classes=num_classes))
load_from = None
