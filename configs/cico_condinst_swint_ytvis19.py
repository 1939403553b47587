# CiCo-CondInst Swin-T: FPN, heads and prototype convs with 192 channels
# (docs/reference_implementation.md#architecture), inflated from the authors'
# converted COCO model (_base_/models/coco_checkpoints.py).
_base_ = [
    './cico_condinst_r50_ytvis19.py', './_base_/models/swint_backbone.py'
]
channels = 192
model = dict(
    init_cfg=dict(checkpoint=_base_.coco_condinst_swint),
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels, out_channels=channels),
    bbox_head=dict(in_channels=channels, feat_channels=channels),
    mask_head=dict(in_channels=channels, proto_channels=channels))
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
