# Reference mode for the authors' cico_yolact_r101_yt21_f3.pth (CiCo-Yolact
# R101, T = 3): 36.5 mask AP on YouTube-VIS 2021 valid (paper Table 4).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_yolact_r101_yt21_f3.pth cico_yolact_r101_yt21_f3_mmdet.pth
# Switches: ./_base_/reference_mode.py
# (docs/reference_implementation.md#checkpoints).
_base_ = ['../cico_yolact_r101_ytvis21.py', './_base_/reference_mode.py']
model = dict(
    data_preprocessor=_base_.ref_data_preprocessor,
    neck=_base_.ref_neck,
    tracker=_base_.ref_tracker,
    test_cfg=_base_.ref_test_cfg,
    mask_head=dict(proto_upsample=_base_.ref_proto_upsample))
val_dataloader = dict(dataset=dict(pipeline=_base_.ref_test_pipeline))
test_dataloader = val_dataloader
