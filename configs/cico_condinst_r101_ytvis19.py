# CiCo-CondInst R101: the R50 config with a ResNet-101 backbone. mmdet has no
# COCO CondInst R101: ImageNet weights unless the authors' converted COCO model
# is there (_base_/models/coco_checkpoints.py).
_base_ = ['./cico_condinst_r50_ytvis19.py', './_base_/models/r101_backbone.py']
model = dict(
    init_cfg=dict(checkpoint=_base_.coco_condinst_r101, skip_missing=True),
    backbone=_base_.r101_backbone)
