# CiCo-Yolact R50 on your own VIS data (docs/custom_dataset.md).
# Layout (official VIS json; tools/dataset_converters/coco_frames_to_vis.py
# converts a per-frame COCO json with track ids):
#   data/custom/train/JPEGImages/<video>/<frame>.jpg
#   data/custom/valid/JPEGImages/<video>/<frame>.jpg
#   data/custom/annotations/{train,valid}.json
# The class names come from the json's "categories" (sorted by id):
# VISDataset with no metainfo reads them, so only num_classes is set here.
_base_ = [
    '../_base_/models/cico_yolact_r50_fpn.py',
    '../_base_/datasets/youtube_vis_2019.py',
    '../_base_/schedules/schedule_12e.py', '../_base_/default_runtime.py'
]
# ---- CHANGE THESE -----------------------------------------------------------
# num_classes MUST equal len(categories) of your train json; it is not derived
# (python -c "import json;print(len(json.load(open('F'))['categories']))").
num_classes = 3
data_root = 'data/custom/'
img_scale = (640, 360)  # (w, h) frames are resized to; e.g. (320, 192) small
clip_len = 3  # T, frames per clip (model and all dataloaders use this one)
clip_overlap = 1  # T_o, frames shared by consecutive test clips (< T)
# ------------------------------------------------------------------------------
dataset_type = 'VISDataset'  # no metainfo: classes read from the json
backend_args = None

mmdet_coco_yolact_r50 = 'https://download.openmmlab.com/mmdetection/v2.0/yolact/yolact_r50_1x8_coco/yolact_r50_1x8_coco_20200908-f38d58df.pth'  # noqa: E501
model = dict(
    clip_len=clip_len,
    bbox_head=dict(num_classes=num_classes),
    mask_head=dict(num_classes=num_classes),
    # start from mmdet's COCO YOLACT (2D -> 3D inflation) as the paper's
    # models start from COCO; what of it fits nothing in CiCo is listed
    # (class layer, segmentation branch, the protonet biases a norm
    # replaces). This model has mmdet's normalisation and FPN, so the
    # authors' converted COCO model does not fit it (docs/departures.md
    # #neck-and-initialisation). To fine-tune a VIS checkpoint instead, set
    # init_cfg=None and load_from below.
    init_cfg=dict(
        type='InflatedPretrained',
        checkpoint=mmdet_coco_yolact_r50,
        skip_keys=[
            'bbox_head.conv_cls.*', 'mask_head.segm_branch.*',
            'mask_head.protonet.*.bias'
        ]))
# A VIS checkpoint with another class count loads too: its class layer
# (bbox_head.conv_cls) is re-initialised with one log line, the rest loads.
load_from = None

train_pipeline = [
    dict(type='ClipFrameSample'),  # T frames around the key frame
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
                crop_size=img_scale,
                allow_negative_crop=True,
                recompute_bbox=True),
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
    dict(type='PackClipInputs')
]
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        clip_len=clip_len,
        box_corners='exclusive',  # the project's recipe (mmdet's corners)
        redraw_empty_clips=0,
        pipeline=train_pipeline),
    sampler=dict(type='TrackImgSampler'),
    batch_sampler=dict(_delete_=True, type='TrackAspectRatioBatchSampler'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations/valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        clip_len=clip_len,
        clip_overlap=clip_overlap,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# valid.json with annotations: report mask AP. Without annotations, set
# format_only=True and outfile_prefix to write results.json for a server.
val_evaluator = dict(
    type='CiCoVISMetric', format_only=False, outfile_prefix=None)
test_evaluator = val_evaluator
