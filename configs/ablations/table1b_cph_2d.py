# Table 1b, row 1: 2D convs in the box, track and class towers (CMH 2D).
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(
    bbox_head=dict(
        box_tower_3d=False, track_tower_3d=False, cls_tower_3d=False),
    mask_head=dict(is_3d=False))
