# YouTube-VIS 2019, official json loaded directly (no conversion):
#   data/youtube_vis_2019/{train,valid,test}/JPEGImages/<video>/<frame>.jpg
#   data/youtube_vis_2019/{train,valid,test}.json
# Paths below are relative to data_root, so one --cfg-options relocates them.
# The clip length T lives in three places that must agree (a child config that
# changes T sets all three): model.clip_len, *_dataloader.dataset.clip_len.
dataset_type = 'YTVIS2019Dataset'
data_root = 'data/youtube_vis_2019/'
backend_args = None
clip_len = 3  # T, paper Sec. 4.1 (3-frame clips)
clip_overlap = 1  # T_o, paper Table 2 (default 1)
img_scale = (640, 360)  # (w, h), paper "resized to 360x640" (test)
# the authors' training input: fit into 640 x 384 (16:9 -> 640 x 360, 4:3 ->
# 512 x 384, portrait -> 216 x 384)
train_scale = (640, 384)
# their canvas / padding value: the normalisation's mean per channel of the
# BGR frame (0 after their normalisation)
authors_fill = (123.675, 116.28, 103.53)

# The authors' training augmentation (docs/training_recipe.md#data), one
# random draw per clip: a VERTICAL flip, the fit resize, their expand (zoom
# out onto the mean or zoom in and crop, p 0.5, scale 0.5-1.5), no colour
# jitter; boxes from the json with inclusive corners, scaled with the
# frames, never recomputed from masks; float frames as they use them.
train_pipeline = [
    # the key frame and T - 1 frames drawn among its neighbours (offsets -2,
    # -1, +1 for T = 3) that hold an object
    dict(type='ClipFrameSample', neighbours_with_objects=True),
    dict(
        type='TransformBroadcaster',
        share_random_params=True,  # one random draw per clip
        transforms=[
            dict(
                type='LoadImageFromFile',
                to_float32=True,
                backend_args=backend_args),
            dict(type='LoadTrackAnnotations', with_mask=True),
            dict(type='RandomFlip', prob=0.5, direction='vertical'),
            dict(type='Resize', scale=train_scale, keep_ratio=True),
            dict(
                type='ClipExpand',
                prob=0.5,
                scale_range=(0.5, 1.5),
                fill=authors_fill),
            # an object the expand's crop pushed out of a frame is absent
            # there (ids stay aligned; docs/mmdet_traps.md#clip-transforms)
            dict(
                type='FilterEmptyInstances',
                min_mask_area=0,
                min_box_wh=(1e-3, 1e-3)),
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
    # mmdet's meta keys + the clip layout (clip_layout.CLIP_META_KEYS)
    dict(type='PackClipInputs')
]

train_dataloader = dict(
    batch_size=6,  # clips per GPU; 4 GPUs x 6 = 24 clips (paper Sec. 4)
    num_workers=4,
    persistent_workers=True,
    # the authors' epoch: every annotated frame holding an object is a key
    # frame once; batches mix aspect ratios, padded together
    sampler=dict(type='KeyFrameSampler'),
    batch_sampler=None,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.json',
        data_prefix=dict(img_path='train/JPEGImages'),
        clip_len=clip_len,
        box_corners='inclusive',  # the authors' x + w - 1
        redraw_empty_clips=10,  # a clip left without objects is redrawn
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='VideoClipSampler'),  # one clip per step, in order
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='valid.json',
        data_prefix=dict(img_path='valid/JPEGImages'),
        test_mode=True,
        clip_len=clip_len,
        clip_overlap=clip_overlap,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

# The valid split has no public ground truth: write the CodaLab submission.
val_evaluator = dict(
    type='CiCoVISMetric',
    format_only=True,
    outfile_prefix='work_dirs/youtube_vis_2019_results')
test_evaluator = val_evaluator
