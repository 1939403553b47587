# The authors' training losses and initialisation: what their released code
# computes for the same weights and clip where it differs from this project's
# own recipe, switch by switch (docs/training_recipe.md). ./authors_model.py
# inherits this file and joins these switches with the authors' network and
# test-time behaviour into one model override per mask FCN.
authors_train_cfg = dict(
    # their matcher for clips of at most 5 frames: each frame's own box,
    # anchors over 0.5 with two objects neutralised, greedy forced matches,
    # every overlap x 1.05 (docs/training_recipe.md#sample-matcher). The
    # paper's circumscribed boxes (window 1) are what they use for longer
    # clips: Table 1c's ablation rows switch the window.
    assigner=dict(
        _delete_=True,
        type='ForcedMatchAssigner',
        window=0,
        pos_iou_thr=0.5,
        neg_iou_thr=0.4,
        force_min_overlap=0.225,
        small_area=0.01,
        small_boost=1.05),
    # every anchor of the padded batch is matched, padding included
    anchors_in_batch_padding=True,
    # DIoU in coordinates / padded batch size; quality target unclamped
    # (docs/training_recipe.md#box-losses)
    box_iou_coords='batch_normalized',
    clamp_quality_target=False,
    # Eq. 9 summed over clips / all clips of the GPU
    track_loss_avg='all_clips')
authors_bbox_head = dict(
    # prediction layers Xavier-uniform like every other conv (the class
    # bias -log 99 either way)
    prediction_init='xavier',
    bbox_coder=dict(type='UnclampedDeltaXYWHBBoxCoder'),  # no dw/dh clamp
    loss_diou=dict(eps=1e-7),
    # BCE on sigmoid(q) for any real target (a mean DIoU can be < 0)
    loss_quality=dict(_delete_=True, type='QualityBCELoss', loss_weight=1.0))
authors_mask_head = dict(
    # crop bounds and loss area in whole prototype pixels, probability 0
    # outside the crop, Eq. 8 summed over clips / all clips
    # (docs/training_recipe.md#mask-loss)
    box_rounding='truncate',
    loss_mask=dict(outside_crop='zero_probability', avg_over='all_clips'))
# Their loader of the COCO model (docs/training_recipe.md#initialisation):
# the box layer's weight keeps its Xavier init, its bias is tiled as a whole
# vector, and the CMH's t = 3 kernels are multiplied by (0.125, 0.75, 0.125)
# along the kernel WIDTH without division by t (the project's own recipe
# weights time instead).
# What their loader left out, and nothing else: the class layer (80 COCO
# classes) and the box layer's weight; a checkpoint trained with another
# normalisation or neck is refused (docs/training_recipe.md#initialisation).
authors_inflation = dict(
    type='InflatedPretrained',
    skip_keys=['bbox_head.conv_cls.*', 'bbox_head.conv_reg.weight'],
    tile_box_weights=False,
    box_bias_tiling='whole_tensor',
    cmh_temporal_weights='authors_width')
