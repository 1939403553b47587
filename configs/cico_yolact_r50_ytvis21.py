# CiCo-Yolact R50 on YouTube-VIS 2021 (paper: 35.2 mask AP).
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py',
    './_base_/datasets/youtube_vis_2021.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
