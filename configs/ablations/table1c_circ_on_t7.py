# Table 1c: sample matcher with circumscribed boxes on (window 1), T = 7.
_base_ = './table1c_circ_on_t3.py'
clip_len = 7
model = dict(clip_len=clip_len)
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len))
test_dataloader = dict(dataset=dict(clip_len=clip_len))
