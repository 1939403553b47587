# CiCo-Yolact R50 on YouTube-VIS 2019 (paper Table 3: 37.1 mask AP).
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py',
    './_base_/datasets/youtube_vis_2019.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py',
    './_base_/models/coco_checkpoints.py',
    './_base_/models/authors_training.py'
]
model = dict(
    # inflated from COCO Yolact (_base_/models/coco_checkpoints.py)
    init_cfg=dict(_base_.authors_inflation, checkpoint=_base_.coco_yolact_r50),
    # the authors' training losses (_base_/models/authors_training.py)
    train_cfg=_base_.authors_train_cfg,
    bbox_head=_base_.authors_bbox_head,
    mask_head=_base_.authors_mask_head)
load_from = None  # model.init_cfg inflates the COCO model
