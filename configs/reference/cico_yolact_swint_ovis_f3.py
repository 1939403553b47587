# Reference mode for CiCo-Yolact Swin-T (T = 3; 18.0 mask AP on OVIS valid
# (paper Table 3)). The authors published no checkpoint of this variant: this
# config is for files their code writes with the same settings.
#   python tools/model_converters/cico_official_to_mmdet.py \
#       cico_yolact_swint_ovis_f3.pth cico_yolact_swint_ovis_f3_mmdet.pth
# Switches: ../_base_/models/authors_model.py
# (docs/reference_implementation.md#checkpoints).
_base_ = '../cico_yolact_swint_ovis.py'
# OVIS: the real config's softmax head (background last after conversion)
model = _base_.ref_yolact_model
val_dataloader = _base_.ref_test_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.ref_evaluator
test_evaluator = _base_.ref_evaluator
