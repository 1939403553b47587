# Reference mode for the authors' cico_CondInst_swint_yt21_f3.pth (CiCo-
# CondInst Swin-T, T = 3): 39.1 mask AP on YouTube-VIS 2021 valid (paper
# Table 3; the abstract says 38.9).
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_CondInst_swint_yt21_f3.pth cico_CondInst_swint_yt21_f3_mmdet.pth
# Switches: ../_base_/models/authors_model.py
# (docs/reference_implementation.md#checkpoints).
_base_ = '../cico_condinst_swint_ytvis21.py'
model = _base_.ref_condinst_model
val_dataloader = _base_.ref_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
