# SynthVIS protocol, stage 2: CiCo-CondInst T = 3 with the authors' recipe
# on the network of ./cico_condinst_r18_stage2_t3.py (what changes and what
# stays: ./cico_yolact_r18_stage2_t3_authors.py). The mask FCN keeps the
# stage-1 model's coordinates (the authors' Gaussian channel would change
# the controller's size).
_base_ = [
    './cico_yolact_r18_stage2_t3_authors.py',
    '../_base_/models/cico_condinst_synthvis.py'
]
model = dict(
    bbox_head=dict(_base_.condinst_synthvis_model.bbox_head,
                   **_base_.authors_bbox_head),
    mask_head=dict(_base_.condinst_synthvis_model.mask_head,
                   **_base_.authors_mask_head),
    init_cfg=dict(
        checkpoint='work_dirs/synthvis_protocol/condinst/stage1/stage1.pth'))
