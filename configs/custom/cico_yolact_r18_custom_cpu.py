# CPU-sized variant of cico_yolact_r50_custom.py (docs/custom_dataset.md):
# ResNet-18 from scratch, 32-channel FPN and heads, small frames, an
# iteration-based AdamW schedule as configs/cico_yolact_r18_synthvis.py.
_base_ = ['./cico_yolact_r50_custom.py']
num_classes = 3  # = len(categories) of your train json
channels = 32
model = dict(
    init_cfg=None,  # no pretrained weights offline
    backbone=dict(depth=18, init_cfg=None),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=channels),
    bbox_head=dict(
        num_classes=num_classes, in_channels=channels, feat_channels=channels),
    mask_head=dict(
        num_classes=num_classes, in_channels=channels,
        proto_channels=channels))
max_iters = 800
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    sampler=dict(_delete_=True, type='InfiniteSampler', shuffle=True),
    batch_sampler=None)
val_dataloader = dict(num_workers=1)
test_dataloader = val_dataloader
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
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, weight_decay=0.05),
    clip_grad=dict(max_norm=35, norm_type=2))
auto_scale_lr = dict(base_batch_size=4)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(by_epoch=False, interval=400, max_keep_ckpts=2))
log_processor = dict(by_epoch=False)
