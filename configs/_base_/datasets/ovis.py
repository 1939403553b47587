# OVIS, official layout:
#   data/ovis/{train,valid,test}/<video>/<frame>.jpg
#   data/ovis/annotations_{train,valid,test}.json
_base_ = './youtube_vis_2019.py'
dataset_type = 'OVISDataset'
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
