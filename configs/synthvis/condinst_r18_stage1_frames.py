# SynthVIS protocol, stage 1, the frame-level model with the CondInst mask
# FCN (./README.md).
_base_ = [
    './yolact_r18_stage1_frames.py',
    '../_base_/models/cico_condinst_synthvis.py'
]
model = _base_.condinst_synthvis_model
