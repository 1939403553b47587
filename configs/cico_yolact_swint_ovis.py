# CiCo-Yolact Swin-T: FPN 256, prototype convs 192 channels
# [REFERENCE_FACTS 0, 2.1]. No COCO CiCo-Swin checkpoint exists in mmdet
# format: ImageNet Swin-T weights.
_base_ = ['./cico_yolact_r50_ovis.py', './_base_/models/swint_backbone.py']
model = dict(
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels),
    mask_head=dict(proto_channels=192))
load_from = None
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
