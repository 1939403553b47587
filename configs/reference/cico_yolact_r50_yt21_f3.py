# Reference mode for the authors' cico_yolact_r50_yt21_f3.pth (CiCo-Yolact
# R50, T = 3): 35.2 mask AP on YouTube-VIS 2021 valid (paper Table 3).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_yolact_r50_yt21_f3.pth cico_yolact_r50_yt21_f3_mmdet.pth
# Switches: ../_base_/models/authors_model.py
# (docs/reference_implementation.md#checkpoints).
_base_ = '../cico_yolact_r50_ytvis21.py'
model = _base_.ref_yolact_model
val_dataloader = _base_.ref_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
