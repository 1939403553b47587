# CiCo-CondInst, ResNet-50 + FPN (paper Eq. 6): same detector, assigner,
# losses, tracker and inference as CiCo-Yolact; the CPH predicts the 169
# parameters of a dynamic FCN (three 1x1x1 convs, 8 channels) applied to
# K = 8 clip prototypes plus 2 relative-coordinate channels.
# The authors' variant (docs/reference_implementation.md#condinst-head): 1
# Gaussian coordinate channel, 161 parameters: mask_fcn.rel_coords='gaussian'
# (the detector sets bbox_head.num_params from the mask FCN;
# docs/departures.md#condinst).
_base_ = './cico_yolact_r50_fpn.py'
model = dict(
    # neck as mmdet's CondInst, so its COCO checkpoint loads
    neck=dict(
        add_extra_convs='on_output',
        relu_before_extra_convs=True,
        upsample_cfg=dict(mode='nearest')),
    mask_head=dict(
        # K = 8 (docs/reference_implementation.md#architecture)
        num_protos=8,
        mask_fcn=dict(
            _delete_=True,
            type='ClipCondInstFCN',
            num_protos=8,
            channels=8,
            num_layers=3,
            rel_coords='offset'),
        # CondInst test crop x1.5:
        # docs/reference_implementation.md#post-processing
        test_crop_expand=1.5))
