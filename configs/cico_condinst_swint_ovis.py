# CiCo-CondInst Swin-T: FPN, heads and prototype convs with 192 channels
# [REFERENCE_FACTS 0]; ImageNet Swin-T weights.
_base_ = ['./cico_condinst_r50_ovis.py', './_base_/models/swint_backbone.py']
channels = 192
model = dict(
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels, out_channels=channels),
    bbox_head=dict(in_channels=channels, feat_channels=channels),
    mask_head=dict(in_channels=channels, proto_channels=channels))
load_from = None
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
