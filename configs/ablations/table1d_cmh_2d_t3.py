# Table 1d: clip-level mask head with 2d convs, T = 3.
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(mask_head=dict(is_3d=False))
