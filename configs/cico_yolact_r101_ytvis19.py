# CiCo-Yolact R101: the R50 config with a ResNet-101 backbone [REFERENCE_FACTS 1.1].
_base_ = './cico_yolact_r50_ytvis19.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r101_1x8_coco/yolact_r101_1x8_coco_20200908-4cbe9101.pth'  # noqa: E501
