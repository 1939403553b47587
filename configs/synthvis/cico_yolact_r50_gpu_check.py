# tools/gpu_check.sh: the real CiCo-Yolact R50 config (360x640, T = 3) on a
# SynthVIS made at 360x640, randomly initialised (the check needs no
# download), a 50-iteration schedule, AP on the valid split.
_base_ = '../cico_yolact_r50_ytvis19.py'
dataset_type = 'SynthVISDataset'
data_root = 'data/synthvis_360x640/'
num_classes = 6
model = dict(
    init_cfg=None,
    backbone=dict(init_cfg=None),
    bbox_head=dict(num_classes=num_classes),
    mask_head=dict(num_classes=num_classes))
train_dataloader = dict(
    batch_size=6,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/valid.json'))
test_dataloader = val_dataloader
val_evaluator = dict(format_only=False, outfile_prefix=None)
test_evaluator = val_evaluator
max_iters = 50
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=max_iters + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=10)
]
default_hooks = dict(
    logger=dict(interval=10),
    checkpoint=dict(by_epoch=False, interval=max_iters))
log_processor = dict(by_epoch=False)
