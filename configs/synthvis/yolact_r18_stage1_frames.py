# SynthVIS protocol, stage 1 (the paper's COCO stage): the frame-level
# Yolact of the FiFo baseline trained from scratch on SynthVIS frames as
# images (one random frame per video and sample, 12 per step). Stage 2
# starts from its last checkpoint. ./README.md
_base_ = './fifo_yolact_r18_stage2_t1.py'
model = dict(init_cfg=None)
max_iters = 2400
train_cfg = dict(max_iters=max_iters, val_begin=1, val_interval=400)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_iters,
        by_epoch=False,
        milestones=[1680, 2160],
        gamma=0.1)
]
default_hooks = dict(checkpoint=dict(interval=200))
