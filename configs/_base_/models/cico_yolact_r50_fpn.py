# CiCo-Yolact, ResNet-50 + FPN (paper Sec. 3.3-3.4). Values the paper leaves
# open follow the authors' code, as documented section by section in
# docs/reference_implementation.md; deliberate departures from it are in
# docs/departures.md.
num_classes = 40
model = dict(
    type='CiCo',
    clip_len=3,  # T (paper Sec. 4.1); the datasets' clip_len must match
    data_preprocessor=dict(
        type='TrackDataPreprocessor',
        # standard mmdet RGB normalisation, not the reference's BGR-order
        # quirk (docs/departures.md#normalisation)
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_mask=True,
        pad_size_divisor=32),
    # backbone + FPN as mmdet's YOLACT R50, so its COCO checkpoint loads
    backbone=dict(
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        # nothing frozen, BN trained:
        # docs/reference_implementation.md#architecture
        frozen_stages=-1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        zero_init_residual=False,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(
        type='FPN',
        in_channels=[256, 512, 1024, 2048],
        out_channels=256,
        # P3-P7, strides 8..128: docs/reference_implementation.md#architecture
        # mmdet's FPN: docs/departures.md#neck-and-initialisation
        start_level=1,
        add_extra_convs='on_input',
        num_outs=5,
        upsample_cfg=dict(mode='bilinear')),
    bbox_head=dict(
        type='CiCoClipHead',
        num_classes=num_classes,
        in_channels=256,
        feat_channels=256,
        stacked_convs=4,  # paper Sec. 3.3: four conv layers per tower
        cls_tower_3d=False,  # Table 1b: 2D class tower
        box_tower_3d=True,  # Table 1b: 3D box tower
        track_tower_3d=True,  # Table 1b: 3D track tower
        # 3x3x3 kernels with temporal zero padding, 64-d embedding (the
        # mask-parameter count comes from the mask head's FCN):
        # docs/reference_implementation.md#architecture
        temporal_kernel_size=3,
        embed_dim=64,
        # quality ("center") branch: docs/reference_implementation.md#losses
        with_quality=True,
        regress_clip_boxes=True,  # 4T deltas per anchor (paper Sec. 3.3)
        # side 3 x stride, ratios 1, 1:2, 2:1; SSD coder with variances
        # 0.1 / 0.2 (docs/reference_implementation.md#anchors)
        anchor_generator=dict(
            type='AnchorGenerator',
            octave_base_scale=3,
            scales_per_octave=1,
            ratios=[1.0, 2.0, 0.5],
            strides=[8, 16, 32, 64, 128],
            center_offset=0.5),
        bbox_coder=dict(
            type='DeltaXYWHBBoxCoder',
            target_means=[0., 0., 0., 0.],
            target_stds=[0.1, 0.1, 0.2, 0.2]),
        # loss weights lambda_1..lambda_4 of Eq. 10 and the box IoU and
        # quality terms: docs/reference_implementation.md#losses
        loss_cls=dict(  # sigmoid focal, alpha 0.25, gamma 2, weight 5
            type='FocalLoss',
            use_sigmoid=True,
            gamma=2.0,
            alpha=0.25,
            loss_weight=5.0),
        loss_bbox=dict(type='SmoothL1Loss', beta=1.0, loss_weight=1.0),
        loss_diou=dict(type='DIoULoss', loss_weight=1.0),  # 1 - DIoU
        loss_quality=dict(  # BCE, target = mean DIoU over the T boxes
            type='CrossEntropyLoss',
            use_sigmoid=True,
            loss_weight=1.0),
        loss_track=dict(type='TrackEmbedLoss', loss_weight=5.0)),  # Eq. 9
    mask_head=dict(
        type='ClipProtoNet',
        num_classes=num_classes,
        in_channels=256,
        # CMH width (docs/reference_implementation.md#architecture)
        proto_channels=256,
        num_protos=32,
        is_3d=True,  # Table 1d: 3D CMH
        num_proto_convs=3,  # paper Sec. 3.3: three 3D convs
        mask_fcn=dict(type='ClipLincombMask'),  # Eq. 5
        # Eq. 8, weight 6.125 x min(T, 5), temporal decay 0.9, crop x1.5 in
        # training (docs/reference_implementation.md#losses)
        loss_mask=dict(
            type='ClipMaskLoss',
            loss_weight=6.125,
            clip_len_scale=True,
            max_clip_len_scale=5,
            temporal_decay=0.9),
        train_crop_expand=1.5,
        # Yolact test crop (docs/reference_implementation.md#post-processing)
        test_crop_expand=1.1,
        crop_min_size=0.1,
        # the one threshold of the masks at test time: clip NMS, tracker and
        # output use the head's masks
        mask_thr=0.5),
    # Eq. 11 with the authors' coefficients and new-object score
    # (docs/reference_implementation.md#tracker); Hungarian, lost tracks not
    # propagated (docs/departures.md#tracker)
    tracker=dict(
        type='ClipTracker',
        match_weights=dict(embed=1.0, mask=0.5, box=0.5, label=0.3),
        overlap_iou_scale=2.0,
        new_track_embed=0.5,
        new_track_iou=0.3,
        num_clips_retain=5),
    train_cfg=dict(
        # mmdet's >= at 0.5, no 1.05 boost: docs/departures.md#sample-matching
        assigner=dict(
            type='CircumscribedBoxAssigner',
            window=1,  # paper: previous, current and next frame
            pos_iou_thr=0.5,  # paper Sec. 3.3 epsilon_p
            neg_iou_thr=0.4,  # paper Sec. 3.3 epsilon_n
            min_pos_iou=0.,
            gt_max_assign_all=False),
        sampler=dict(type='PseudoSampler'),
        allowed_border=-1,
        pos_weight=-1,
        # OHEM configs (OVIS): 3 negatives per positive
        # (docs/reference_implementation.md#sample-matching)
        neg_pos_ratio=3,
        debug=False),
    test_cfg=dict(
        score_thr=0.1,  # paper Sec. 3.4
        # candidates, rescoring, clip Fast NMS and mask-area filter:
        # docs/reference_implementation.md#post-processing
        nms_pre=300,  # min(100 T, 300) candidates per clip
        # the project's post-processor (docs/departures.md#post-processing)
        postprocess=dict(type='ClipNMSPostProcessor'),
        rescore_with_quality=True,  # rank by quality x score
        nms=dict(  # clip-level Fast NMS
            iou_thr=0.5,
            box_weight=0.5,
            mask_weight=0.5,
            min_mask_area=5,
            class_agnostic=False,
            max_per_clip=100),
        min_mask_area=5))  # more than 5 mask pixels in some frame
