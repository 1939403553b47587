# CiCo-CondInst R50 on YouTube-VIS 2021 (paper: 35.4 mask AP).
_base_ = [
    './_base_/models/cico_condinst_r50_fpn.py',
    './_base_/datasets/youtube_vis_2021.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# the first path, else mmdet's COCO CondInst (backbone, FPN; its FCOS towers
# only with bbox_head.tower_norm_cfg=dict(type='GN', num_groups=32), as they
# were trained with GroupNorm).
coco_checkpoints = [
    'checkpoints/resnet50_coco_condinst_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v3.0/condinst/condinst_r50_fpn_ms-poly-90k_coco_instance/condinst_r50_fpn_ms-poly-90k_coco_instance_20221129_125223-4c186406.pth'  # noqa: E501
]
model = dict(
    init_cfg=dict(type='InflatedPretrained', checkpoint=coco_checkpoints))
load_from = None
