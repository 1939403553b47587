# CiCo-Yolact Swin-T: FPN 256, prototype convs 192 channels
# (docs/reference_implementation.md#architecture). mmdet has no COCO Swin-T
# YOLACT: ImageNet Swin-T weights unless the authors' converted COCO model
# is there (below; docs/departures.md#neck-and-initialisation).
_base_ = ['./cico_yolact_r50_ytvis19.py', './_base_/models/swint_backbone.py']
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# this path; without it (mmdet has no such COCO model) only the backbone is
# pretrained (ImageNet).
coco_checkpoints = ['checkpoints/swint_coco_yolact_mmdet.pth']
model = dict(
    init_cfg=dict(checkpoint=coco_checkpoints, skip_missing=True),
    backbone=_base_.swint_backbone,
    neck=dict(in_channels=_base_.swint_channels),
    mask_head=dict(proto_channels=192))
load_from = None  # model.init_cfg inflates the COCO model
optim_wrapper = dict(paramwise_cfg=_base_.swint_paramwise_cfg)
