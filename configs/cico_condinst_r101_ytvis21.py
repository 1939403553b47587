# CiCo-CondInst R101: ResNet-101 backbone; mmdet has no COCO CondInst R101
# checkpoint, so ImageNet weights only.
_base_ = './cico_condinst_r50_ytvis21.py'
model = dict(
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = None
