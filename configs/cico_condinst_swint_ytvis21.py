# CiCo-CondInst Swin-T: FPN, heads and prototype convs with 192 channels
# (docs/reference_implementation.md#architecture); ImageNet Swin-T weights
# unless the authors' converted COCO model is there (below;
# docs/departures.md#neck-and-initialisation).
_base_ = [
    './cico_condinst_r50_ytvis21.py', './_base_/models/swint_backbone.py'
]
channels = 192
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# this path; without it (mmdet has no such COCO model) only the backbone is
# pretrained (ImageNet).
coco_checkpoints = ['checkpoints/swint_coco_condinst_mmdet.pth']
model = dict(
    init_cfg=dict(checkpoint=coco_checkpoints, skip_missing=True),
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels, out_channels=channels),
    bbox_head=dict(in_channels=channels, feat_channels=channels),
    mask_head=dict(in_channels=channels, proto_channels=channels))
load_from = None  # model.init_cfg inflates the COCO model
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
