"""What a checkpoint was trained with: normalisation and neck.

A frame-level checkpoint inflated into a CiCo model only helps when the
model normalises its input and builds its FPN as the checkpoint's model did:
the authors' COCO models subtract the ImageNet mean in BGR order and take P6
from the rectified P5 (``ReferenceFPN``), mmdet's models do neither. The
converter of the authors' files records what their model used in the
checkpoint's ``meta.trained_with``; checkpoints written by this project's
runner carry their config in ``meta.cfg``, from which the same is read.
``InflatedPretrained`` compares it with the model it initialises
(docs/training_recipe.md#initialisation).

A signature is a dict with any of ``mean`` and ``std`` (the normalisation's
per-channel statistics in the order they are subtracted, None without
normalisation), ``channel_swap`` (the frame's channels are reversed before
it) and ``neck`` (the neck's registered type).
"""
from typing import Any, Dict, List, Optional

import torch.nn as nn

Signature = Dict[str, Any]
# relative tolerance when comparing statistics
STAT_RTOL = 1e-4


def model_signature(model: nn.Module) -> Signature:
    """The signature of a built detector; keys for the parts it has."""
    sig: Signature = {}
    pre = getattr(model, 'data_preprocessor', None)
    if pre is not None and hasattr(pre, '_channel_conversion'):
        normalise = getattr(pre, '_enable_normalize', False)
        sig['mean'] = _stats(pre.mean) if normalise else None
        sig['std'] = _stats(pre.std) if normalise else None
        sig['channel_swap'] = bool(pre._channel_conversion)
    neck = getattr(model, 'neck', None)
    if neck is not None:
        sig['neck'] = type(neck).__name__
    return sig


def _stats(buffer) -> List[float]:
    """A float32 statistics buffer as the values a config writes."""
    return [round(float(v), 4) for v in buffer.flatten()]


def config_signature(model_cfg: dict) -> Signature:
    """The signature of a model config (``cfg.model``)."""
    sig: Signature = {}
    pre = model_cfg.get('data_preprocessor')
    if pre is not None:
        mean, std = pre.get('mean'), pre.get('std')
        sig['mean'] = None if mean is None else [float(m) for m in mean]
        sig['std'] = None if std is None else [float(s) for s in std]
        sig['channel_swap'] = bool(
            pre.get('bgr_to_rgb', False) or pre.get('rgb_to_bgr', False))
    neck = model_cfg.get('neck')
    if isinstance(neck, dict) and 'type' in neck:
        sig['neck'] = str(neck['type']).split('.')[-1]
    return sig


def checkpoint_signature(meta: Optional[dict]) -> Optional[Signature]:
    """The recorded signature of a checkpoint's ``meta``: its
    ``trained_with`` (the converter's), else the one of its ``cfg`` (the
    runner's config text); None when it records neither."""
    if not meta:
        return None
    if meta.get('trained_with'):
        return dict(meta['trained_with'])
    text = meta.get('cfg')
    if not isinstance(text, str):
        return None
    from mmengine.config import Config
    try:
        cfg = Config.fromstring(text, '.py')
    except Exception:  # not a config this install can read
        return None
    model = cfg.get('model')
    return config_signature(model) if isinstance(model, dict) else None


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(
            abs(x - y) <= STAT_RTOL * max(abs(x), abs(y), 1.0)
            for x, y in zip(a, b))
    return a == b


def signature_mismatches(recorded: Signature, model: Signature) -> List[str]:
    """``'key: checkpoint X, model Y'`` for every key both record that
    differs."""
    return [
        f'{key}: checkpoint {recorded[key]}, model {model[key]}'
        for key in ('mean', 'std', 'channel_swap', 'neck') if key in recorded
        and key in model and not _same(recorded[key], model[key])
    ]
