# The CPU SynthVIS CiCo-Yolact with the authors' training losses instead of
# the project's (matcher, box IoU, quality, mask and track losses:
# docs/training_recipe.md); data, schedule and model unchanged. Compare the
# two on the same clips:
#   python tools/analysis_tools/clip_loss.py \
#       configs/synthvis/cico_yolact_r18_authors_losses.py \
#       --ann data/synthvis/annotations/train.json \
#       --img-dir data/synthvis/train/JPEGImages --clip 1:0,1,2
_base_ = [
    '../cico_yolact_r18_synthvis.py', '../_base_/models/authors_training.py'
]
model = dict(
    train_cfg=_base_.authors_train_cfg,
    bbox_head=_base_.authors_bbox_head,
    mask_head=_base_.authors_mask_head)
