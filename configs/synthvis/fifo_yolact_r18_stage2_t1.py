# SynthVIS protocol, stage 2, the FiFo baseline: frame-level Yolact (T = 1,
# 2D towers and mask head, frame-by-frame test with tracking) from the same
# stage-1 model, schedule and number of frames per step (12 clips of 1 frame
# vs 4 clips of 3). ./README.md
_base_ = './cico_yolact_r18_stage2_t3.py'
clip_len = 1
model = dict(
    clip_len=clip_len,
    bbox_head=dict(
        cls_tower_3d=False,
        box_tower_3d=False,
        track_tower_3d=False,
        regress_clip_boxes=False),
    mask_head=dict(is_3d=False))
train_dataloader = dict(batch_size=12, dataset=dict(clip_len=clip_len))
val_dataloader = dict(dataset=dict(clip_len=clip_len, clip_overlap=0))
test_dataloader = val_dataloader
