# OVIS, official layout:
#   data/ovis/{train,valid,test}/<video>/<frame>.jpg
#   data/ovis/annotations_{train,valid,test}.json
_base_ = './youtube_vis_2019.py'
dataset_type = 'OVISDataset'
# what an OVIS model's heads change (paper Sec. 4; docs/
# reference_implementation.md#sample-matching): 25 classes, softmax CE with
# 3:1 OHEM instead of the focal loss. A config sets
#   model = dict(bbox_head=dict(num_classes=ovis_num_classes,
#                               loss_cls=ovis_loss_cls),
#                mask_head=dict(num_classes=ovis_num_classes))
ovis_num_classes = 25
ovis_loss_cls = dict(
    _delete_=True,
    type='CrossEntropyLoss',
    use_sigmoid=False,
    reduction='none',
    loss_weight=5.0)
data_root = 'data/ovis/'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations_train.json',
        data_prefix=dict(img_path='train')))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='annotations_valid.json',
        data_prefix=dict(img_path='valid')))
test_dataloader = val_dataloader
val_evaluator = dict(outfile_prefix='work_dirs/ovis_results')
test_evaluator = val_evaluator
