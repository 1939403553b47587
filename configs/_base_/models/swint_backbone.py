# Swin-T for CiCo: mmdet's SwinTransformer with the reference's effective
# settings (embed 96, depths 2-2-6-2, window 7, drop_path 0.2:
# docs/reference_implementation.md#architecture), ImageNet-1k weights
# (docs/departures.md#neck-and-initialisation). Used by the *_swint_* configs
# as
# ``model = dict(backbone=_base_.swint_backbone, ...)``.
swint_pretrained = 'https://github.com/SwinTransformer/storage/releases/download/v1.0.0/swin_tiny_patch4_window7_224.pth'  # noqa: E501
swint_backbone = dict(
    _delete_=True,
    type='SwinTransformer',
    embed_dims=96,
    depths=[2, 2, 6, 2],
    num_heads=[3, 6, 12, 24],
    window_size=7,
    mlp_ratio=4,
    qkv_bias=True,
    qk_scale=None,
    drop_rate=0.,
    attn_drop_rate=0.,
    drop_path_rate=0.2,
    patch_norm=True,
    out_indices=(0, 1, 2, 3),
    with_cp=False,
    convert_weights=True,
    init_cfg=dict(type='Pretrained', checkpoint=swint_pretrained))
swint_channels = [96, 192, 384, 768]
# no weight decay on norms and position tables (mmdet's Swin recipes)
swint_paramwise_cfg = dict(
    custom_keys=dict(
        absolute_pos_embed=dict(decay_mult=0.),
        relative_position_bias_table=dict(decay_mult=0.),
        norm=dict(decay_mult=0.)))
