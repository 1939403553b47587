# Reference mode for the authors' cico_CondInst_r50_yt21_f3.pth (CiCo-
# CondInst R50, T = 3): 35.4 mask AP on YouTube-VIS 2021 valid (paper Table
# 3).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_CondInst_r50_yt21_f3.pth cico_CondInst_r50_yt21_f3_mmdet.pth
# Switches: ./_base_/reference_mode.py
# (docs/reference_implementation.md#checkpoints).
_base_ = ['../cico_condinst_r50_ytvis21.py', './_base_/reference_mode.py']
model = dict(
    data_preprocessor=_base_.ref_data_preprocessor,
    neck=_base_.ref_neck,
    tracker=_base_.ref_tracker,
    test_cfg=_base_.ref_test_cfg,
    mask_head=dict(
        proto_upsample=_base_.ref_proto_upsample,
        # one Gaussian coordinate channel, 161 parameters
        mask_fcn=dict(rel_coords='gaussian')))
val_dataloader = dict(dataset=dict(pipeline=_base_.ref_test_pipeline))
test_dataloader = val_dataloader
