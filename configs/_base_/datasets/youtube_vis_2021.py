# YouTube-VIS 2021, official layout:
#   data/youtube_vis_2021/{train,valid,test}/JPEGImages/<video>/<frame>.jpg
#   data/youtube_vis_2021/{train,valid,test}/instances.json
_base_ = './youtube_vis_2019.py'
dataset_type = 'YTVIS2021Dataset'
data_root = 'data/youtube_vis_2021/'
train_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train/instances.json'))
val_dataloader = dict(
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='valid/instances.json'))
test_dataloader = val_dataloader
val_evaluator = dict(outfile_prefix='work_dirs/youtube_vis_2021_results')
test_evaluator = val_evaluator
