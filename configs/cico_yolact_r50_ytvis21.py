# CiCo-Yolact R50 on YouTube-VIS 2021 (paper: 35.2 mask AP).
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py',
    './_base_/datasets/youtube_vis_2021.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
# Initialisation (paper Sec. 4;
# docs/reference_implementation.md#initialisation): model.init_cfg inflates a
# COCO frame-level model 2D -> 3D into the whole model (so load_from stays
# None). The first file that exists is used: the authors' COCO model converted
# to this project's keys (tools/model_converters/cico_official_to_mmdet.py) at
# the first path, else mmdet's COCO YOLACT (backbone, FPN; its head conv ->
# first conv of the class/box towers; protonet -> CMH).
coco_checkpoints = [
    'checkpoints/resnet50_coco_yolact_mmdet.pth',
    'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
]
model = dict(
    init_cfg=dict(type='InflatedPretrained', checkpoint=coco_checkpoints))
load_from = None
