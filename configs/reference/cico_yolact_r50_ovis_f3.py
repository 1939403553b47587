# Reference mode for the authors' cico_yolact_r50_ovis_f3.pth (CiCo-Yolact
# R50, T = 3): 17.2 mask AP on OVIS valid (paper Table 3; the authors' README
# says 17.4).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_yolact_r50_ovis_f3.pth cico_yolact_r50_ovis_f3_mmdet.pth
# Switches: ../_base_/models/authors_model.py
# (docs/reference_implementation.md#checkpoints).
_base_ = '../cico_yolact_r50_ovis.py'
# OVIS: the real config's softmax head (background last after conversion)
model = _base_.ref_yolact_model
val_dataloader = _base_.ref_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
