# CiCo-Yolact R50 on OVIS (paper: 17.2 mask AP). 25 classes; softmax CE with
# 3:1 OHEM instead of the focal loss (REFERENCE_FACTS 0 and 3).
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py', './_base_/datasets/ovis.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
num_classes = 25
model = dict(
    bbox_head=dict(
        num_classes=num_classes,
        use_ohem=True,
        loss_cls=dict(
            _delete_=True,
            type='CrossEntropyLoss',
            use_sigmoid=False,
            reduction='none',
            loss_weight=5.0)),
    mask_head=dict(num_classes=num_classes))
load_from = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
