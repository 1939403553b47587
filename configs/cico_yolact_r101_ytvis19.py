# CiCo-Yolact R101: the R50 config with a ResNet-101 backbone (paper Sec. 4.3,
# Table 4; docs/reference_implementation.md#architecture), inflated from the
# authors' converted COCO Yolact R101 (_base_/models/coco_checkpoints.py).
_base_ = ['./cico_yolact_r50_ytvis19.py', './_base_/models/r101_backbone.py']
model = dict(
    init_cfg=dict(checkpoint=_base_.coco_yolact_r101),
    backbone=_base_.r101_backbone)
