# CPU-sized CiCo-Yolact on SynthVIS: ResNet-18 from scratch, 32-channel FPN and
# heads, frames resized to 128x213. Learns SynthVIS in minutes on 2 cores:
#   python tools/dataset_converters/make_synthvis.py --out data/synthvis
#   python tools/train.py configs/cico_yolact_r18_synthvis.py
_base_ = [
    './_base_/models/cico_yolact_r50_fpn.py', './_base_/datasets/synthvis.py',
    './_base_/schedules/schedule_12e.py', './_base_/default_runtime.py'
]
num_classes = 6  # SynthVIS shapes
channels = 32
model = dict(
    backbone=dict(depth=18, init_cfg=None),  # no pretrained weights offline
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    bbox_head=dict(
        num_classes=num_classes, in_channels=channels, feat_channels=channels),
    mask_head=dict(
        num_classes=num_classes, in_channels=channels,
        proto_channels=channels))

# iteration-based CPU schedule: one clip per video and step, 4 clips per batch;
# one loader worker (two would take the cores the training step runs on: 0.63
# vs 0.50 s per step on 2 cores)
max_iters = 800
train_dataloader = dict(
    batch_size=4,
    num_workers=1,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    batch_sampler=None)
train_cfg = dict(
    _delete_=True,
    type='IterBasedTrainLoop',
    max_iters=max_iters,
    val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[550, 700],
        gamma=0.1)
]
# From scratch (no COCO weights offline) on 4 clips per step, AdamW learns
# SynthVIS far faster than the paper's SGD 1e-3 (a fine-tuning recipe;
# docs/departures.md#training-schedule).
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    # validation metrics at their iteration (mmengine logs them per epoch
    # by default: step 0 for an iteration-based loop)
    logger=dict(interval=20, log_metric_by_epoch=False),
    checkpoint=dict(by_epoch=False, interval=400, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
