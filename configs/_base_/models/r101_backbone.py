# ResNet-101 instead of the R50 configs' ResNet-50 (paper Sec. 4.3, Table 4;
# docs/reference_implementation.md#architecture), ImageNet weights from
# torchvision. Used by the *_r101_* configs as
# ``model = dict(backbone=_base_.r101_backbone, ...)``.
r101_backbone = dict(
    depth=101,
    init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet101'))
