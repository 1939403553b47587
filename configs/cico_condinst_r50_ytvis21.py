# CiCo-CondInst R50 on YouTube-VIS 2021 (paper: 35.4 mask AP).
_base_ = [
    './_base_/models/cico_condinst_r50_fpn.py',
    './_base_/datasets/youtube_vis_2021.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
load_from = 'https://download.openmmlab.com/mmdetection/v3.0/condinst/condinst_r50_fpn_ms-poly-90k_coco_instance/condinst_r50_fpn_ms-poly-90k_coco_instance_20221129_125223-4c186406.pth'  # noqa: E501
