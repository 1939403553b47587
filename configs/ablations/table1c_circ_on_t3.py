# Table 1c: sample matcher with circumscribed boxes on (window 1), T = 3.
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
model = dict(train_cfg=dict(assigner=dict(window=1)))
