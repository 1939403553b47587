# The COCO frame-level models that the real configs inflate into CiCo
# (paper Sec. 4; docs/reference_implementation.md#initialisation). A config
# uses one as
# ``model = dict(init_cfg=dict(type='InflatedPretrained', checkpoint=...))``,
# which inflates the 2D model into the whole CiCo model (so load_from stays
# None).
# The authors' COCO models converted to this project's keys
# (tools/model_converters/cico_official_to_mmdet.py): the initialisation of
# the authors' recipe (the main configs). Without the file a main config
# stops with an error that says how to make it.
coco_yolact_r50 = 'checkpoints/resnet50_coco_yolact_mmdet.pth'
coco_yolact_r101 = 'checkpoints/resnet101_coco_yolact_mmdet.pth'
coco_yolact_swint = 'checkpoints/swint_coco_yolact_mmdet.pth'
coco_condinst_r50 = 'checkpoints/resnet50_coco_condinst_mmdet.pth'
coco_condinst_r101 = 'checkpoints/resnet101_coco_condinst_mmdet.pth'
coco_condinst_swint = 'checkpoints/swint_coco_condinst_mmdet.pth'
# mmdet's COCO models, the fallback of the project's recipe
# (configs/project_recipe/) when the authors' file is absent: a list of
# candidates, the first that exists is used. YOLACT: backbone, FPN, its head
# conv -> first conv of the class/box towers, protonet -> CMH. CondInst:
# backbone, FPN; its FCOS towers only with
# bbox_head.tower_norm_cfg=dict(type='GN', num_groups=32), as they were
# trained with GroupNorm. mmdet has no COCO CondInst R101 nor any COCO Swin-T
# model.
mmdet_coco_yolact_r50 = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
mmdet_coco_yolact_r101 = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r101_1x8_coco/yolact_r101_1x8_coco_20200908-4cbe9101.pth'  # noqa: E501
mmdet_coco_condinst_r50 = 'https://download.openmmlab.com/mmdetection/v3.0/condinst/condinst_r50_fpn_ms-poly-90k_coco_instance/condinst_r50_fpn_ms-poly-90k_coco_instance_20221129_125223-4c186406.pth'  # noqa: E501
# what of mmdet's models fits nothing in CiCo (InflatedPretrained's
# skip_keys): YOLACT's class layer (81 classes with background, one per
# anchor and location), its semantic-segmentation branch and the protonet
# biases that a norm replaces; of CondInst everything but the backbone and
# the FPN (FCOS towers trained with GroupNorm, distances, controller)
mmdet_coco_yolact_skip_keys = [
    'bbox_head.conv_cls.*', 'mask_head.segm_branch.*',
    'mask_head.protonet.*.bias'
]
mmdet_coco_condinst_skip_keys = ['bbox_head.*', 'mask_head.*']
