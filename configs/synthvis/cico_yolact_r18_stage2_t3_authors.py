# SynthVIS protocol, stage 2: CiCo-Yolact T = 3 with the authors' recipe
# (docs/training_recipe.md) instead of the project's, on the same network
# and the same stage-1 checkpoint as ./cico_yolact_r18_stage2_t3.py, so that
# the two recipes can be compared on SynthVIS (./README.md):
#   python tools/analysis_tools/run_synthvis_protocol.py --fcn yolact \
#       --variants cico authors
# What changes: the losses and matcher, the data (their clip sampling and
# epoch, vertical flip, expand, no colour jitter, inclusive box corners,
# redrawn empty clips), their inflation of the stage-1 model, their
# post-processing, tracker, clip schedule and per-clip video scores. What
# stays, because stage 1 was trained with it: the normalisation, the FPN,
# the prototype upsampling and the frame size (128 x 224); the optimiser
# and schedule of the protocol (AdamW, 600 iterations).
_base_ = [
    './cico_yolact_r18_stage2_t3.py', '../_base_/models/authors_model.py'
]
model = dict(
    train_cfg=_base_.authors_train_cfg,
    bbox_head=_base_.authors_bbox_head,
    mask_head=_base_.authors_mask_head,
    tracker=_base_.ref_tracker,
    test_cfg=_base_.ref_test_cfg,
    # their loader; the class count is the stage-1 model's, so only the box
    # layer's weight (4 -> 4T deltas) stays as initialised
    init_cfg=dict(
        tile_box_weights=False,
        box_bias_tiling='whole_tensor',
        cmh_temporal_weights='authors_width',
        skip_keys=['bbox_head.conv_reg.weight']))
# their augmentation at the SynthVIS frame size, one draw per clip
train_pipeline = [
    dict(type='ClipFrameSample', neighbours_with_objects=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', to_float32=True),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='RandomFlip', prob=0.5, direction='vertical'),
            dict(type='Resize', scale=_base_.img_scale, keep_ratio=True),
            dict(
                type='ClipExpand',
                prob=0.5,
                scale_range=(0.5, 1.5),
                fill=_base_.authors_fill),
            dict(
                type='FilterEmptyInstances',
                min_mask_area=0,
                min_box_wh=(1e-3, 1e-3)),
        ]),
    dict(type='PackClipInputs')
]
train_dataloader = dict(
    sampler=dict(_delete_=True, type='KeyFrameSampler'),
    batch_sampler=None,
    dataset=dict(
        box_corners='inclusive',
        redraw_empty_clips=10,
        pipeline=train_pipeline))
# their clip schedule at a video's end, per-clip video scores
val_dataloader = dict(dataset=dict(clip_schedule='authors'))
test_dataloader = val_dataloader
val_evaluator = dict(aggregate_over='clips')
test_evaluator = val_evaluator
