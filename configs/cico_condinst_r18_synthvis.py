# CPU-sized CiCo-CondInst on SynthVIS: the CiCo-Yolact SynthVIS config with
# the CondInst mask FCN (Eq. 6).
_base_ = './cico_yolact_r18_synthvis.py'
model = dict(
    bbox_head=dict(num_params=169),
    mask_head=dict(
        num_protos=8,
        # from scratch, the ReLU on the 8 prototypes died (99.5% zeros after
        # 800 iterations, AP 0.0): keep the raw prototypes here
        proto_relu=False,
        mask_fcn=dict(
            _delete_=True,
            type='ClipCondInstFCN',
            num_protos=8,
            channels=8,
            num_layers=3,
            rel_coords='offset'),
        test_crop_expand=1.5))
