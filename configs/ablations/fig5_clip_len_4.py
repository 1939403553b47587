# Fig. 5: CiCo-Yolact with 4-frame clips.
_base_ = '{{$CICO_ABLATION_BASE:../cico_yolact_r50_ytvis19.py}}'
clip_len = 4
model = dict(clip_len=clip_len)
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len))
test_dataloader = dict(dataset=dict(clip_len=clip_len))
