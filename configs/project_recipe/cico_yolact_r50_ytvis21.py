# CiCo-Yolact R50 on YouTube-VIS 2021 with the project's own recipe instead of
# the authors' (configs/cico_yolact_r50_ytvis21.py): mmdet's normalisation and
# FPN, the circumscribed-box matcher and the project's losses, mmdet's
# augmentation, the paper's LR steps, clip Fast NMS and the one-to-one
# ClipTracker, inflated from mmdet's COCO YOLACT R50. Every difference:
# docs/departures.md.
_base_ = [
    '../_base_/models/cico_yolact_r50_fpn.py',
    '../_base_/datasets/youtube_vis_2021.py',
    '../_base_/schedules/schedule_12e.py', '../_base_/default_runtime.py',
    './_base_/project_recipe.py'
]
model = dict(init_cfg=_base_.project_yolact_init)
load_from = None  # model.init_cfg inflates the COCO model
train_dataloader = _base_.project_train_dataloader
param_scheduler = _base_.project_param_scheduler
