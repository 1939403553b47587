# CiCo-CondInst R101: the R50 config with a ResNet-101 backbone (paper Sec.
# 4.3, Table 4), inflated from the authors' converted COCO CondInst R101
# (_base_/models/coco_checkpoints.py).
_base_ = ['./cico_condinst_r50_ytvis19.py', './_base_/models/r101_backbone.py']
model = dict(
    init_cfg=dict(checkpoint=_base_.coco_condinst_r101),
    backbone=_base_.r101_backbone)
