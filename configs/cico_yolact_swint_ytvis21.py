# CiCo-Yolact Swin-T: FPN 256, prototype convs 192 channels
# (docs/reference_implementation.md#architecture), inflated from the authors'
# converted COCO model (_base_/models/coco_checkpoints.py).
_base_ = ['./cico_yolact_r50_ytvis21.py', './_base_/models/swint_backbone.py']
model = dict(
    init_cfg=dict(checkpoint=_base_.coco_yolact_swint),
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels),
    mask_head=dict(proto_channels=192))
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
