# SynthVIS protocol, stage 2, CiCo-CondInst T = 3 (./README.md).
_base_ = [
    './cico_yolact_r18_stage2_t3.py',
    '../_base_/models/cico_condinst_synthvis.py'
]
model = dict(
    bbox_head=_base_.condinst_synthvis_model.bbox_head,
    mask_head=_base_.condinst_synthvis_model.mask_head,
    init_cfg=dict(
        checkpoint='work_dirs/synthvis_protocol/condinst/stage1/stage1.pth'))
