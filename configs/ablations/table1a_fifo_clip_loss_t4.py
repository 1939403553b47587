# Table 1a: frame-level Yolact + clip-level mask loss, T = 4.
_base_ = './table1a_fifo_clip_loss_t3.py'
clip_len = 4
model = dict(clip_len=clip_len)
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len))
test_dataloader = dict(dataset=dict(clip_len=clip_len))
