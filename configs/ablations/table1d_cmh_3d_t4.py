# Table 1d: clip-level mask head with 3d convs, T = 4.
_base_ = './table1d_cmh_3d_t3.py'
clip_len = 4
model = dict(clip_len=clip_len)
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len))
test_dataloader = dict(dataset=dict(clip_len=clip_len))
