# The learning guard's training (tests/test_tools/test_learning_guard.py):
# the CPU SynthVIS model overfits a few tiny videos, so nothing random is
# left in the data (no resize, crop, flip or photometric jitter) and the
# test tests on the training videos at the training scale.
_base_ = '../../configs/cico_yolact_r18_synthvis.py'
img_scale = (160, 96)  # (w, h): the generated size
iters = 400
train_pipeline = [
    dict(type='ClipFrameSample'),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
        ]),
    dict(type='PackClipInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile'),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
        ]),
    dict(type='PackClipInputs')
]
train_split = dict(
    ann_file='annotations/train.json',
    data_prefix=dict(img_path='train/JPEGImages'))
train_dataloader = dict(
    batch_size=2,
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0,
    persistent_workers=False,
    dataset=dict(pipeline=test_pipeline, **train_split))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=iters, val_interval=iters + 1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=iters,
        by_epoch=False,
        milestones=[300, 360],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=iters))
