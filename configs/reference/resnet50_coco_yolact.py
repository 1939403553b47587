# The authors' COCO-pretrained frame-level CiCo-Yolact R50
# (resnet50_coco_yolact.pth), the initialisation of their VIS training: T =
# 1, 2D towers and CMH, one box per anchor, 80 COCO classes (sigmoid focal),
# no track head. For conversion and a later 2D -> 3D inflation; the
# dataloaders are the base's (no COCO pipeline here).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       resnet50_coco_yolact.pth resnet50_coco_yolact_mmdet.pth
# Switches: ../_base_/models/authors_model.py.
_base_ = '../cico_yolact_r50_ytvis19.py'
model = _base_.ref_coco_yolact_model
train_dataloader = _base_.ref_coco_train_dataloader
val_dataloader = _base_.ref_coco_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
