# Table 2: 1 overlap frame(s) between consecutive 3-frame test clips
# (test-time only: the trained model is the base's).
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
val_dataloader = dict(dataset=dict(clip_overlap=1))
test_dataloader = dict(dataset=dict(clip_overlap=1))
