# Reference mode for the authors' cico_condinst_r101_ovis_f3.pth (CiCo-
# CondInst R101, T = 3): 20.4 mask AP on OVIS valid (paper Table 4).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_condinst_r101_ovis_f3.pth cico_condinst_r101_ovis_f3_mmdet.pth
# Switches: ./_base_/reference_mode.py
# (docs/reference_implementation.md#checkpoints).
_base_ = ['../cico_condinst_r101_ovis.py', './_base_/reference_mode.py']
# OVIS: the real config's softmax head (background last after conversion)
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
