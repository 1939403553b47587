# The project's own training recipe, the alternative to the authors' recipe
# of the main configs; every difference is explained in docs/departures.md.
# A config of configs/project_recipe/ inherits the project's model base
# (mmdet's RGB normalisation and FPN, the circumscribed-box matcher, the
# project's losses, clip Fast NMS, the one-to-one ClipTracker, per-frame
# video scores: no _base_/models/authors_model.py) plus this file, and sets
#   model = dict(init_cfg=_base_.project_yolact_init)  # or condinst
#   train_dataloader = _base_.project_train_dataloader
#   param_scheduler = _base_.project_param_scheduler
_base_ = '../../_base_/models/coco_checkpoints.py'

# mmdet's COCO models, inflated; what of them fits nothing is listed
# (docs/departures.md#neck-and-initialisation)
project_yolact_init = dict(
    type='InflatedPretrained',
    checkpoint=_base_.mmdet_coco_yolact_r50,
    skip_keys=_base_.mmdet_coco_yolact_skip_keys)
project_condinst_init = dict(
    type='InflatedPretrained',
    checkpoint=_base_.mmdet_coco_condinst_r50,
    skip_keys=_base_.mmdet_coco_condinst_skip_keys)

# The project's augmentation (docs/departures.md#augmentation), one random
# draw per clip: scale jitter 0.8-1.25 around 640 x 360 then a crop back to
# it with the boxes of cut objects recomputed from their masks, a horizontal
# flip, photometric distortion.
project_img_scale = (640, 360)  # (w, h)
project_train_pipeline = [
    dict(type='ClipFrameSample'),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=None),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(
                type='RandomResize',
                scale=project_img_scale,
                ratio_range=(0.8, 1.25),
                keep_ratio=True),
            dict(
                type='RandomCrop',
                crop_size=project_img_scale,  # (w, h)
                allow_negative_crop=True,
                recompute_bbox=True),  # boxes of cut objects from masks
            dict(type='FilterEmptyInstances'),
            dict(type='RandomFlip', prob=0.5),  # horizontal
            dict(type='PhotoMetricDistortion'),
        ]),
    dict(type='PackClipInputs')
]
# The project's epoch: every annotated frame a key frame, batches of one
# aspect ratio; mmdet's exclusive box corners (x + w); a clip whose objects
# the crop removed is trained on as it is.
project_train_dataloader = dict(
    sampler=dict(type='TrackImgSampler'),
    batch_sampler=dict(_delete_=True, type='TrackAspectRatioBatchSampler'),
    dataset=dict(
        box_corners='exclusive',
        redraw_empty_clips=0,
        pipeline=project_train_pipeline))
# The paper's learning-rate steps (Sec. 4: epochs 8 and 10) instead of the
# authors' released single step at epoch 9.
project_param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=500),
    dict(
        type='MultiStepLR',
        begin=0,
        end=12,
        by_epoch=True,
        milestones=[8, 10],
        gamma=0.1)
]
