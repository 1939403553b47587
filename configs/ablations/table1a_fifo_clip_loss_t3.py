# Table 1a: frame-level Yolact (2D towers, 2D mask head, each anchor
# regresses only its own frame's box) trained with the clip-level mask loss
# over T = 3 frames (the mask parameters of one frame with the prototypes of
# the adjacent frames).
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(
    bbox_head=dict(
        cls_tower_3d=False,
        box_tower_3d=False,
        track_tower_3d=False,
        regress_clip_boxes=False),
    mask_head=dict(is_3d=False))
