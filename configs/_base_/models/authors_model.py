# The authors' recipe as one model override: their training switches
# (./authors_training.py) plus their network details and test-time behaviour
# (normalisation, FPN, prototype upsampling, Gaussian coordinates for
# CondInst, post-processing, tracker, test input, video-level aggregation),
# so that their converted checkpoints
# (tools/model_converters/cico_official_to_mmdet.py) load strictly and predict
# as they did (docs/reference_implementation.md#checkpoints). A main config
# includes this file and sets
#   model = dict(_base_.authors_yolact_model,  # or authors_condinst_model
#                init_cfg=dict(_base_.authors_inflation, checkpoint=...))
#   val_dataloader = test_dataloader = _base_.ref_test_dataloader
#   val_evaluator = test_evaluator = _base_.ref_evaluator
# The converted authors' VIS checkpoints run under the main configs; their
# COCO models under configs/reference/ (the frame-level ref_coco_* below).
_base_ = './authors_training.py'

# Frames are read BGR and the RGB-ordered ImageNet statistics are subtracted
# from the BGR channels before the swap to RGB (the effective statistics per
# RGB channel below; docs/departures.md#normalisation).
ref_data_preprocessor = dict(
    mean=[103.53, 116.28, 123.675],
    std=[57.375, 57.12, 58.395],
    bgr_to_rgb=True)

# ReLU on P3-P5, P6 from the rectified P5, P7 from P6 without ReLU, bilinear
# top-down path (align_corners=False) to each lateral's size, C3-C5 only
# (docs/reference_implementation.md#architecture). Same parameter names as
# mmdet's FPN.
ref_neck = dict(
    type='ReferenceFPN',
    add_extra_convs='on_output',
    relu_before_extra_convs=False,
    upsample_cfg=dict(mode='bilinear', align_corners=False))

# The CMH's trilinear x(1, 2, 2) upsampling with align_corners=True maps the
# time axis onto itself, so it is a per-frame bilinear x2 with
# align_corners=True.
ref_proto_upsample = dict(mode='bilinear', align_corners=True)

# Test input: fit into 640 x 384 (w x h) keeping the ratio (16:9 -> 640 x
# 360, 4:3 -> 512 x 384), then pad bottom/right to a fixed 640 x 384 with 0
# after normalisation: the pad value is the channel mean (BGR order here;
# float frames so it is exact). The KeyMapper writes back only the padded
# image, so img_shape keeps the resized frame's size and the mask head drops
# the padding before resizing masks to the original frame.
ref_test_size = (640, 384)  # (w, h)
ref_test_pipeline = [
    dict(
        type='TransformBroadcaster',
        transforms=[
            dict(type='LoadImageFromFile', to_float32=True, backend_args=None),
            dict(type='Resize', scale=ref_test_size, keep_ratio=True),
            dict(
                type='KeyMapper',
                remapping=dict(img='img', pad_shape='pad_shape'),
                transforms=[
                    dict(
                        type='Pad',
                        size=ref_test_size,
                        pad_val=dict(img=(123.675, 116.28, 103.53)))
                ]),
        ]),
    dict(type='PackClipInputs')
]

# The authors' tracker instead of the one-to-one ClipTracker: greedy
# assignment in order of best score (a detection whose best track is taken is
# dropped), the "new object" column with IoUs 0.3 (0.15 for a small
# detection), the 0.1 x detection-score term, and lost tracks output for
# max(3, 15 // T) clips with masks regenerated on the current prototypes and
# scores decayed by 0.9^T per clip (docs/reference_implementation.md#tracker,
# docs/departures.md#tracker).
ref_tracker = dict(
    _delete_=True,
    type='ReferenceClipTracker',
    match_weights=dict(embed=1.0, mask=0.5, box=0.5, label=0.3),
    score_weight=0.1,
    overlap_iou_scale=2.0,
    new_track_embed=0.5,
    new_track_iou=0.3,
    small_new_track_iou=0.15,
    small_area_ratio=0.1,
    min_mask_area=2,
    num_clips_output=None,  # max(3, 15 // T)
    score_decay=0.9,
    min_output_score=0.1,
    min_output_mask_area=3,
    lost_crop_expand=1.2)

# The authors' per-clip post-processing instead of our clip Fast NMS:
# candidates ranked by quality x score, near-duplicate boxes (> 0.9) and box
# centres outside the frame dropped before the masks, the mask-to-box ratio
# filter, then their class-aware clip Fast NMS reporting raw class scores
# without a cap (docs/reference_implementation.md#post-processing,
# docs/departures.md#post-processing); decoded boxes are not clipped to the
# frame. Merged into the real test_cfg.
ref_test_cfg = dict(
    postprocess=dict(type='ReferencePostProcessor'), clip_boxes_to_frame=False)
# A track's video score and category: the mean and vote over the clips it
# appears in (each clip once), not over its frames.
ref_evaluator = dict(aggregate_over='clips')
# frame-level (T = 1, the COCO configs): min(100 T, 300) = 100 candidates
ref_frame_test_cfg = dict(ref_test_cfg, nms_pre=100)

# All the switches above as one override of the real config's model, per
# mask FCN, and the test dataloader: a reference config sets
# ``model = _base_.ref_yolact_model`` (or the CondInst / COCO one) and
# ``val_dataloader = test_dataloader = _base_.ref_test_dataloader``.
ref_yolact_model = dict(
    data_preprocessor=ref_data_preprocessor,
    neck=ref_neck,
    tracker=ref_tracker,
    test_cfg=ref_test_cfg,
    mask_head=dict(proto_upsample=ref_proto_upsample))
# CondInst: one Gaussian coordinate channel, 161 parameters
ref_condinst_model = dict(
    ref_yolact_model,
    mask_head=dict(
        proto_upsample=ref_proto_upsample,
        mask_fcn=dict(rel_coords='gaussian')))
# The authors' test clips: ceil(L / (T - T_o)) clips, each emitting its first
# T - T_o frames, a short clip padded by cycling its own frames (the last of
# a 7-frame video with T = 3, T_o = 1 is [6, 6, 6]; projects/cico/datasets/
# clip_layout.py, docs/departures.md#post-processing).
ref_test_dataloader = dict(
    dataset=dict(pipeline=ref_test_pipeline, clip_schedule='authors'))
# the whole recipe, training switches included, per mask FCN
authors_yolact_mask_head = dict(
    _base_.authors_mask_head, proto_upsample=ref_proto_upsample)
authors_condinst_mask_head = dict(
    authors_yolact_mask_head, mask_fcn=dict(rel_coords='gaussian'))
authors_yolact_model = dict(
    ref_yolact_model,
    train_cfg=_base_.authors_train_cfg,
    bbox_head=_base_.authors_bbox_head,
    mask_head=authors_yolact_mask_head)
authors_condinst_model = dict(
    authors_yolact_model, mask_head=authors_condinst_mask_head)
# The COCO frame-level models: T = 1, 2D towers and CMH, one box per anchor,
# 80 classes; their datasets run clips of one frame without overlap.
ref_coco_clip_len = 1
ref_coco_num_classes = 80
_coco_bbox_head = dict(
    num_classes=ref_coco_num_classes,
    cls_tower_3d=False,
    box_tower_3d=False,
    track_tower_3d=False,
    regress_clip_boxes=False)
ref_coco_yolact_model = dict(
    ref_yolact_model,
    clip_len=ref_coco_clip_len,
    test_cfg=ref_frame_test_cfg,
    bbox_head=_coco_bbox_head,
    mask_head=dict(
        num_classes=ref_coco_num_classes,
        is_3d=False,
        proto_upsample=ref_proto_upsample))
ref_coco_condinst_model = dict(
    ref_coco_yolact_model,
    mask_head=dict(
        ref_coco_yolact_model['mask_head'],
        mask_fcn=dict(rel_coords='gaussian')))
ref_coco_train_dataloader = dict(dataset=dict(clip_len=ref_coco_clip_len))
ref_coco_test_dataloader = dict(
    dataset=dict(
        clip_len=ref_coco_clip_len, clip_overlap=0,
        pipeline=ref_test_pipeline))
