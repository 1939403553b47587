# CiCo-CondInst R101: ResNet-101 backbone; mmdet has no COCO CondInst R101
# checkpoint: ImageNet weights unless the authors' converted COCO model is
# there (below).
_base_ = './cico_condinst_r50_ytvis19.py'
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# this path; without it (mmdet has no such COCO model) only the backbone is
# pretrained (ImageNet).
coco_checkpoints = ['checkpoints/resnet101_coco_condinst_mmdet.pth']
model = dict(
    init_cfg=dict(checkpoint=coco_checkpoints, skip_missing=True),
    backbone=dict(
        depth=101,
        init_cfg=dict(type='Pretrained',
                      checkpoint='torchvision://resnet101')))
load_from = None  # model.init_cfg inflates the COCO model
