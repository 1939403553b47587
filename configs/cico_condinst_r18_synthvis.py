# CPU-sized CiCo-CondInst on SynthVIS: the CiCo-Yolact SynthVIS config with
# the CondInst mask FCN (Eq. 6).
_base_ = './cico_yolact_r18_synthvis.py'
# Trained from scratch, the reference's tanh on the filters and ReLU on the
# 8 prototypes stalled the FCN: the ReLU died (99.5% zero prototypes, AP 0.0
# after 800 iterations); without it, 94% of the filters saturated at +-1 by
# iteration 400 (AP 0.0 there). Here: the original CondInst's linear
# controller and raw mask features (AP 0.3 after 800 iterations;
# docs/departures.md#condinst).
model = dict(
    bbox_head=dict(param_act=None),
    mask_head=dict(
        num_protos=8,
        proto_relu=False,
        mask_fcn=dict(
            _delete_=True,
            type='ClipCondInstFCN',
            num_protos=8,
            channels=8,
            num_layers=3,
            rel_coords='offset'),
        test_crop_expand=1.5))
