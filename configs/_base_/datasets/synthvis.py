# SynthVIS (tools/dataset_converters/make_synthvis.py), official VIS layout:
#   data/synthvis/{train,valid}/JPEGImages/<video>/<frame>.jpg
#   data/synthvis/annotations/{train,valid}.json   (valid keeps its GT)
_base_ = './youtube_vis_2019.py'
dataset_type = 'SynthVISDataset'
data_root = 'data/synthvis/'
img_scale = (224, 128)  # (w, h): CPU-sized (frames are generated at 320x192)
backend_args = None
train_pipeline = [
    dict(type='ClipFrameSample'),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(
                type='RandomResize',
                scale=img_scale,
                ratio_range=(0.8, 1.25),
                keep_ratio=True),
            dict(
                type='RandomCrop',
                crop_size=img_scale,  # (w, h)
                allow_negative_crop=True,
                recompute_bbox=True),  # boxes of cut objects from masks
            # objects the crop emptied leave with their ids (mmdet's
            # FilterAnnotations would misalign gt_instances_ids)
            dict(type='FilterEmptyInstances'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PhotoMetricDistortion'),
        ]),
    dict(type='PackClipInputs')
]
test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', backend_args=backend_args),
            dict(type='Resize', scale=img_scale, keep_ratio=True),
        ]),
    dict(type='PackClipInputs')  # mmdet's meta keys + the clip layout
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        box_corners='exclusive',  # the project's recipe (mmdet's corners)
        redraw_empty_clips=0,
        pipeline=train_pipeline),
    # the project's epoch: every annotated frame a key frame, batches of one
    # aspect ratio
    sampler=dict(type='TrackImgSampler'),
    batch_sampler=dict(_delete_=True, type='TrackAspectRatioBatchSampler'))
val_dataloader = dict(
    num_workers=1,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# the valid split has ground truth: report AP
val_evaluator = dict(
    type='CiCoVISMetric', format_only=False, outfile_prefix=None)
test_evaluator = val_evaluator
