# Reference mode for CiCo-Yolact R101 (T = 3; 39.6 mask AP on YouTube-VIS
# 2019 valid (paper Table 4)). The authors published no checkpoint of this
# variant: this config is for files their code writes with the same settings.
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_yolact_r101_yt19_f3.pth cico_yolact_r101_yt19_f3_mmdet.pth
# Switches: ./_base_/reference_mode.py
# (docs/reference_implementation.md#checkpoints).
_base_ = ['../cico_yolact_r101_ytvis19.py', './_base_/reference_mode.py']
model = dict(
    data_preprocessor=_base_.ref_data_preprocessor,
    neck=_base_.ref_neck,
    tracker=_base_.ref_tracker,
    test_cfg=_base_.ref_test_cfg,
    mask_head=dict(proto_upsample=_base_.ref_proto_upsample))
val_dataloader = dict(dataset=dict(pipeline=_base_.ref_test_pipeline))
test_dataloader = val_dataloader
