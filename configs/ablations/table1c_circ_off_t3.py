# Table 1c: sample matcher with circumscribed boxes off (window 0), T = 3.
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(train_cfg=dict(assigner=dict(window=0)))
