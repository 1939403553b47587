# Paper Sec. 4: SGD, lr 1e-3, 12 epochs, lr x0.1 at epochs 8 and 10, 24 clips
# per batch (4 GPUs x 6). Warm-up 500 iterations from 1e-4
# (docs/reference_implementation.md#training-schedule; steps as in the paper:
# docs/departures.md#training-schedule).
max_epochs = 12
train_cfg = dict(
    type='EpochBasedTrainLoop',
    max_epochs=max_epochs,
    # YouTube-VIS / OVIS valid splits have no public ground truth: no
    # validation during training by default (SynthVIS configs turn it on)
    val_interval=max_epochs + 1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=max_epochs,
        by_epoch=True,
        milestones=[8, 10],
        gamma=0.1)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4))
# --auto-scale-lr scales lr by (total clips per batch) / 24
auto_scale_lr = dict(enable=False, base_batch_size=24)
