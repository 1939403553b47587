# The authors' COCO-pretrained frame-level CiCo-Yolact R50
# (resnet50_coco_yolact.pth), the initialisation of their VIS training: T =
# 1, 2D towers and CMH, one box per anchor, 80 COCO classes (sigmoid focal),
# no track head. For conversion and a later 2D -> 3D inflation; the
# dataloaders are the base's (no COCO pipeline here).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       resnet50_coco_yolact.pth resnet50_coco_yolact_mmdet.pth
# Switches: ./_base_/reference_mode.py.
_base_ = ['../cico_yolact_r50_ytvis19.py', './_base_/reference_mode.py']
clip_len = 1
num_classes = 80
model = dict(
    clip_len=clip_len,
    data_preprocessor=_base_.ref_data_preprocessor,
    neck=_base_.ref_neck,
    tracker=_base_.ref_tracker,
    test_cfg=_base_.ref_frame_test_cfg,
    bbox_head=dict(
        num_classes=num_classes,
        cls_tower_3d=False,
        box_tower_3d=False,
        track_tower_3d=False,
        regress_clip_boxes=False),
    mask_head=dict(
        num_classes=num_classes,
        is_3d=False,
        proto_upsample=_base_.ref_proto_upsample))
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(
    dataset=dict(
        clip_len=clip_len, clip_overlap=0, pipeline=_base_.ref_test_pipeline))
test_dataloader = val_dataloader
