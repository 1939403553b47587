# CiCo-Yolact R101: the R50 config with a ResNet-101 backbone (paper Sec. 4.3,
# Table 4; docs/reference_implementation.md#architecture).
_base_ = './cico_yolact_r50_ovis.py'
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# the first path, else mmdet's COCO YOLACT (backbone, FPN; its head conv ->
# first conv of the class/box towers; protonet -> CMH).
coco_checkpoints = [
    'checkpoints/resnet101_coco_yolact_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r101_1x8_coco/yolact_r101_1x8_coco_20200908-4cbe9101.pth'  # noqa: E501
]
model = dict(
    init_cfg=dict(checkpoint=coco_checkpoints),
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = None  # model.init_cfg inflates the COCO model
