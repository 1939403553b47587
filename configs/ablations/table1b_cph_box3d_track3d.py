# Table 1b, row 3 (the paper's choice): 3D box and track towers, 2D class
# tower (CMH 2D).
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(
    bbox_head=dict(box_tower_3d=True, track_tower_3d=True, cls_tower_3d=False),
    mask_head=dict(is_3d=False))
