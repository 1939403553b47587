# Table 1a, first row: plain frame-level Yolact (T = 1, no clip loss,
# frame-by-frame test with tracking between consecutive frames).
_base_ = './table1a_fifo_clip_loss_t3.py'
clip_len = 1
model = dict(clip_len=clip_len)
train_dataloader = dict(dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len, clip_overlap=0))
test_dataloader = dict(dataset=dict(clip_len=clip_len, clip_overlap=0))
