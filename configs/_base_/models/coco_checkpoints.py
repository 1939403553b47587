# The COCO frame-level models that the real configs inflate into CiCo
# (paper Sec. 4; docs/reference_implementation.md#initialisation). A config
# uses one list as
# ``model = dict(init_cfg=dict(type='InflatedPretrained', checkpoint=...))``,
# which inflates the 2D model into the whole CiCo model (so load_from stays
# None) from the first file of the list that exists:
# - first, the authors' COCO model converted to this project's keys
#   (tools/model_converters/cico_official_to_mmdet.py) under checkpoints/;
# - else mmdet's COCO model, where mmdet has one. YOLACT: backbone, FPN, its
#   head conv -> first conv of the class/box towers, protonet -> CMH.
#   CondInst: backbone, FPN; its FCOS towers only with
#   bbox_head.tower_norm_cfg=dict(type='GN', num_groups=32), as they were
#   trained with GroupNorm.
# mmdet has no COCO CondInst R101 nor any COCO Swin-T model: without the
# authors' converted file those configs load only their ImageNet backbone
# (they set skip_missing=True).
coco_yolact_r50 = [
    'checkpoints/resnet50_coco_yolact_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
]
coco_yolact_r101 = [
    'checkpoints/resnet101_coco_yolact_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r101_1x8_coco/yolact_r101_1x8_coco_20200908-4cbe9101.pth'  # noqa: E501
]
coco_yolact_swint = ['checkpoints/swint_coco_yolact_mmdet.pth']
coco_condinst_r50 = [
    'checkpoints/resnet50_coco_condinst_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v3.0/condinst/condinst_r50_fpn_ms-poly-90k_coco_instance/condinst_r50_fpn_ms-poly-90k_coco_instance_20221129_125223-4c186406.pth'  # noqa: E501
]
coco_condinst_r101 = ['checkpoints/resnet101_coco_condinst_mmdet.pth']
coco_condinst_swint = ['checkpoints/swint_coco_condinst_mmdet.pth']
