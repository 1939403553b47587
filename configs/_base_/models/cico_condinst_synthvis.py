# The CondInst mask FCN (Eq. 6) as the CPU SynthVIS configs train it from
# scratch. The reference's tanh on the filters and ReLU on the 8 prototypes
# stalled the FCN there: the ReLU died (99.5% zero prototypes) and, without
# it, 94% of the filters saturated at +-1 by iteration 400. These settings
# are the original CondInst's linear controller and raw mask features
# (docs/departures.md#condinst). A child config applies them with
#   _base_ = [<a CiCo-Yolact SynthVIS config>, <this file>]
#   model = _base_.condinst_synthvis_model
condinst_synthvis_model = dict(
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
