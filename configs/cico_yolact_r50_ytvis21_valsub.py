# Local validation on YouTube-VIS 2021 (its valid split has no public ground
# truth): train on train/train_sub.json, validate on the held-out
# train/valid_sub.json (whole training videos) every `val_interval` epochs
# with AP, keep the best checkpoint. Make the split first (README.md "Local
# validation"):
#   python tools/dataset_converters/split_vis.py \
#       data/youtube_vis_2021/train/instances.json --val-ratio 0.1 --last
# Any other model: the same lines with its config as _base_.
_base_ = './cico_yolact_r50_ytvis21.py'
val_interval = 1  # epochs
train_dataloader = dict(dataset=dict(ann_file='train/train_sub.json'))
val_dataloader = dict(
    dataset=dict(
        ann_file='train/valid_sub.json',
        data_prefix=dict(img_path='train/JPEGImages')))
test_dataloader = val_dataloader
# AP on the held-out videos instead of the CodaLab export
val_evaluator = dict(format_only=False, outfile_prefix=None)
test_evaluator = val_evaluator
train_cfg = dict(val_interval=val_interval)
# 'youtube_vis/segm_mAP' is the AP key CiCoVISMetric outputs
default_hooks = dict(
    checkpoint=dict(save_best='youtube_vis/segm_mAP', rule='greater'))
