# CPU-sized CiCo-CondInst on SynthVIS: the CiCo-Yolact SynthVIS config with
# the CondInst mask FCN (Eq. 6), set up as in
# ./_base_/models/cico_condinst_synthvis.py.
_base_ = [
    './cico_yolact_r18_synthvis.py',
    './_base_/models/cico_condinst_synthvis.py'
]
model = _base_.condinst_synthvis_model
