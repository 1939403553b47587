# CiCo-Yolact R50 on OVIS (paper: 17.2 mask AP). 25 classes; softmax CE with
# 3:1 OHEM instead of the focal loss (_base_/datasets/ovis.py).
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py', './_base_/datasets/ovis.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py',
    './_base_/models/coco_checkpoints.py', './_base_/models/authors_model.py'
]
num_classes = _base_.ovis_num_classes  # the model base says 40
model = dict(
    # the authors' recipe (_base_/models/authors_model.py), inflated from
    # their COCO model (_base_/models/coco_checkpoints.py)
    _base_.authors_yolact_model,
    init_cfg=dict(_base_.authors_inflation, checkpoint=_base_.coco_yolact_r50),
    bbox_head=dict(
        _base_.authors_bbox_head,
        num_classes=num_classes,
        loss_cls=_base_.ovis_loss_cls),
    mask_head=dict(_base_.authors_yolact_mask_head, num_classes=num_classes))
load_from = None  # model.init_cfg inflates the COCO model
# the authors' test input (fit into 640 x 384, padded to it) and video-level
# score and category over clips
val_dataloader = _base_.ref_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
