"""Initialise a CiCo model from a frame-level (2D) checkpoint by inflation.

The paper (Sec. 4, model setup) starts VIS training from
COCO-trained frame-level models. Their 2D head and prototype convs become
the 3D convs of the CPH towers and the CMH; the rules are the authors'
(``docs/reference_implementation.md#initialisation``):

* a tensor whose shape equals the target's is copied (**loaded**);
* a 2D kernel ``[Co, Ci, k, k]`` under a 3D one ``[Co, Ci, t, k, k]`` is
  repeated over t and divided by t, except the CMH's t = 3 kernels, which
  get the temporal weights ``[0.125, 0.75, 0.125]`` (**inflated**); the
  weights sum to 1, so a static clip gives the 2D layer's output at the
  centre frame (``temporal_weights='centre'`` / ``cmh_temporal_weights=
  'centre'`` put all the weight on the centre tap instead: every frame then
  gets the 2D layer's output of that frame, on any clip);
* the box layer's 4 deltas per anchor become 4T, repeated for every frame
  *within each anchor's block* (the CPH's ``conv_reg`` channels are
  anchor-major, per anchor frame-major: ``a0: t0 dx dy dw dh, t1 ...``);
  any other 1-D tensor whose target is a whole multiple longer is tiled
  (**tiled**). The authors' loader tiled only the box bias and left the box
  weight random: ``tile_box_weights=False`` does the same;
* the class layer is skipped when the class count differs, like any other
  tensor that fits no rule (**skipped**, with the reason); every target
  tensor without a source keeps its initialisation (**new**: the track
  tower and layer of a COCO model, for instance).

Sources: CiCo checkpoints (the authors' COCO models converted to this
project's keys, or our own T = 1 or T = 3 checkpoints), mmdet's COCO YOLACT
(its head conv feeds the first conv of the class and box towers, its
protonet the CMH; anchors reordered from mmdet's ratios 0.5, 1, 2) and
mmdet's COCO CondInst (its FCOS towers where CiCo's towers have the same
norm). ``InflatedPretrained`` applies it from a config::

    model = dict(init_cfg=dict(type='InflatedPretrained', checkpoint=...))
"""
import fnmatch
import os.path as osp
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.model.weight_init import update_init_info
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import CheckpointLoader
from torch import Tensor

from .trained_with import (checkpoint_signature, model_signature,
                           signature_mismatches)

StateDict = Dict[str, Tensor]
# temporal weights of inflated kernels: the taps, or 'centre'
Weights = Union[Sequence[float], str]
CENTRE = 'centre'
CMH_TEMPORAL_WEIGHTS = (0.125, 0.75, 0.125)
# the authors' loader: their CMH taps multiply the kernel's WIDTH axis
AUTHORS_WIDTH = 'authors_width'
BOX_BIAS_TILINGS = ('per_anchor', 'whole_tensor')
STATUSES = ('loaded', 'inflated', 'tiled', 'skipped', 'new')
CLS_LAYER = 'bbox_head.conv_cls.'
BOX_LAYER = 'bbox_head.conv_reg.'
CMH = 'mask_head.'
MMDET_YOLACT_RATIOS = (0.5, 1.0, 2.0)
# mmdet YOLACT -> CiCo: (source regex, target templates); no target: unused
MMDET_YOLACT_KEYS = (
    (r'bbox_head\.head_convs\.(\d+)\.conv\.(.*)',
     ('bbox_head.cls_tower.convs.{0}.conv.{1}',
      'bbox_head.box_tower.convs.{0}.conv.{1}')),
    (r'mask_head\.protonet\.(0|2|4)\.(.*)',
     ('mask_head.proto_tower.convs.{p}.conv.{1}', )),
    (r'mask_head\.protonet\.8\.(.*)', ('mask_head.proto_conv.conv.{0}', )),
    (r'mask_head\.protonet\.10\.(.*)', ('mask_head.proto_out.{0}', )),
    (r'mask_head\.segm_branch\..*', ()),
)
# mmdet CondInst -> CiCo
MMDET_CONDINST_KEYS = (
    (r'bbox_head\.cls_convs\.(\d+)\.(.*)',
     ('bbox_head.cls_tower.convs.{0}.{1}', )),
    (r'bbox_head\.reg_convs\.(\d+)\.(.*)',
     ('bbox_head.box_tower.convs.{0}.{1}', )),
    (r'bbox_head\.(conv_reg|conv_centerness|controller|scales)\..*', ()),
    (r'mask_head\..*', ()),
)
UNUSED_REASONS = {
    'segm_branch': 'YOLACT semantic-segmentation branch (CiCo has none)',
    'conv_reg': 'FCOS box distances, not anchor deltas',
    'conv_centerness': 'FCOS centerness, one point per location',
    'controller': 'CondInst controller: linear parameters (CiCo: tanh)',
    'scales': 'FCOS per-level scales (CiCo has none)',
    'mask_head': 'CondInst mask branch has no CiCo counterpart',
}
GN_NOTE = ('trained with GroupNorm; this tower has no GN (set '
           'bbox_head.tower_norm_cfg to use it)')
# reported per module, not per tensor
MODULE_NOTES = set(UNUSED_REASONS.values()) | {GN_NOTE}


@dataclass
class InflationReport:
    """What :func:`inflate_state_dict` did to every tensor.

    ``rows``: ``(status, key, source_key, note)``; ``key`` is the target
    tensor (the source tensor for 'skipped').
    """
    source: str = ''
    target: str = ''
    rows: List[Tuple[str, str, str, str]] = field(default_factory=list)

    def add(self,
            status: str,
            key: str,
            source: str = '',
            note: str = '') -> None:
        """Record one tensor."""
        assert status in STATUSES, status
        self.rows.append((status, key, source or key, note))

    def keys(self, status: str) -> List[str]:
        """Keys with this status, in order."""
        return [r[1] for r in self.rows if r[0] == status]

    def counts(self) -> Dict[str, int]:
        """Tensors per status."""
        return {s: len(self.keys(s)) for s in STATUSES}

    def note(self, key: str) -> str:
        """The note of ``key`` (first row)."""
        return next(r[3] for r in self.rows if r[1] == key)


# ----------------------------------------------------------------- sources
def load_source(checkpoint: str,
                map_location: str = 'cpu') -> Tuple[StateDict, dict]:
    """A checkpoint's trained tensors and its ``meta`` ({} without one),
    through mmengine's loaders (local paths, URLs, ``torchvision://``
    ...): ``state_dict`` unwrapped, ``module.`` stripped, and without the
    tensors the converter of the authors' files initialised itself
    (``meta.cico_converter.initialised``: the track head of a COCO model),
    which stay new here."""
    ckpt = CheckpointLoader.load_checkpoint(checkpoint, map_location)
    sd = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
    meta = (ckpt.get('meta') if isinstance(ckpt, dict) else None) or {}
    untrained = set(meta.get('cico_converter', {}).get('initialised', []))
    return OrderedDict((re.sub(r'^module\.', '', k), v) for k, v in sd.items()
                       if isinstance(v, Tensor) and k not in untrained), meta


def load_source_state_dict(checkpoint: str,
                           map_location: str = 'cpu') -> StateDict:
    """:func:`load_source`'s tensors."""
    return load_source(checkpoint, map_location)[0]


def source_format(src_sd: StateDict) -> str:
    """'mmdet_yolact', 'mmdet_condinst' or 'cico' from the key names.

    Raises:
        ValueError: for the authors' own key names (convert them first).
    """
    keys = list(src_sd)
    if any(
            k.startswith(('prediction_layers.', 'ProtoNet.', 'fpn.'))
            for k in keys):
        raise ValueError(
            'this is a checkpoint of the authors\' code: convert it to this '
            'project\'s keys first (tools/model_converters/'
            'cico_official_to_mmdet.py)')
    if any(
            k.startswith(('bbox_head.head_convs.', 'mask_head.protonet.'))
            for k in keys):
        return 'mmdet_yolact'
    if any(
            k.startswith(('bbox_head.controller.',
                          'mask_head.mask_feature_head.')) for k in keys):
        return 'mmdet_condinst'
    return 'cico'


def _rename(key: str, table: tuple) -> Optional[Tuple[str, ...]]:
    """Targets of ``key`` by ``table``; None when no rule matches."""
    for pattern, templates in table:
        m = re.fullmatch(pattern, key)
        if m is None:
            continue
        groups = m.groups()
        # mmdet's protonet interleaves ReLUs: conv 0, 2, 4 -> tower 0, 1, 2
        extra = dict(p=int(groups[0]) // 2) if groups and \
            groups[0].isdigit() else {}
        return tuple(t.format(*groups, **extra) for t in templates)
    return None


def anchor_layers(model: nn.Module) -> Tuple[str, ...]:
    """Key prefixes of the CPH layers with anchor-major output channels,
    as the head declares them (``ANCHOR_LAYERS``); none without one."""
    head = getattr(model, 'bbox_head', None)
    names = getattr(head, 'ANCHOR_LAYERS', ())
    return tuple(f'bbox_head.{name}.' for name in names)


def anchor_order(model: nn.Module,
                 src_ratios: Sequence[float]) -> Optional[List[int]]:
    """For each anchor of ``model``'s CPH, the index of the source anchor
    with the same aspect ratio (None when the ratio sets differ)."""
    head = getattr(model, 'bbox_head', None)
    gen = getattr(head, 'prior_generator', None)
    if gen is None or len(gen.scales) != 1:
        return None
    ours = [round(float(r), 4) for r in gen.ratios]
    src = [round(float(r), 4) for r in src_ratios]
    if sorted(ours) != sorted(src):
        return None
    return [src.index(r) for r in ours]


def _reorder_anchors(t: Tensor, order: List[int]) -> Tensor:
    """Permute the anchor blocks of an anchor-major tensor."""
    a = len(order)
    if t.shape[0] % a:
        return t
    blocks = t.view(a, t.shape[0] // a, *t.shape[1:])
    return blocks[torch.as_tensor(order)].reshape(t.shape)


def _same_tower_norm(target: str, model_keys: set) -> bool:
    """mmdet CondInst's FCOS towers were trained with GN: their convs map
    only onto a tower conv that has a GN too (the function is kept)."""
    m = re.fullmatch(r'(bbox_head\.\w+_tower\.convs\.\d+)\..*', target)
    return m is None or f'{m.group(1)}.gn.weight' in model_keys


def map_source_keys(
    src_sd: StateDict,
    model: nn.Module,
    fmt: str,
    src_anchor_ratios: Optional[Sequence[float]] = None
) -> Tuple[Dict[str, Tuple[str, Tensor, str]], List[Tuple[str, str]]]:
    """Source tensors under the target names.

    Returns:
        tuple: ``{target_key: (source_key, tensor, note)}`` and the source
        keys that have no target, with the reason.
    """
    table = dict(
        mmdet_yolact=MMDET_YOLACT_KEYS,
        mmdet_condinst=MMDET_CONDINST_KEYS).get(fmt, ())
    ratios = src_anchor_ratios or (MMDET_YOLACT_RATIOS
                                   if fmt == 'mmdet_yolact' else None)
    order = anchor_order(model, ratios) if ratios else None
    mapped, unused = OrderedDict(), []
    model_keys = set(model.state_dict())
    for key, value in src_sd.items():
        targets = _rename(key, table)
        if targets is None:
            targets = (key, )
        if not targets:
            why = next(v for k, v in UNUSED_REASONS.items() if k in key)
            unused.append((key, why))
            continue
        if fmt == 'mmdet_condinst' and not _same_tower_norm(
                targets[0], model_keys):
            unused.append((key, GN_NOTE))
            continue
        note = ''
        if order is not None and key.startswith(anchor_layers(model)):
            value = _reorder_anchors(value, order)
            note = 'anchors reordered by ratio'
        for target in targets:
            mapped[target] = (key, value, note)
    return mapped, unused


# ------------------------------------------------------------------- rules
def temporal_kernel(t: int, key: str, temporal_weights: Optional[Weights],
                    cmh_temporal_weights: Optional[Weights]) -> Tensor:
    """The t temporal weights of a target 3D kernel: the CMH's
    (``mask_head.*``) when given for this t, else ``temporal_weights``
    when given for this t, else 1/t each. ``'centre'`` is 1 at the centre
    tap and 0 elsewhere, for any odd t (I3D's centre initialisation: the 3D
    layer gives the 2D layer's output of every frame, whatever the clip)."""
    for weights, applies in ((cmh_temporal_weights, key.startswith(CMH)),
                             (temporal_weights, True)):
        if not applies or weights is None:
            continue
        if isinstance(weights, str):
            if weights != CENTRE:
                raise ValueError(f'{key}: temporal weights must be a list '
                                 f"of taps or '{CENTRE}', got {weights!r}")
            if t % 2 == 0:
                raise ValueError(f'{key}: centre temporal weights need an '
                                 f'odd temporal kernel size, got {t}')
            return torch.eye(t)[t // 2]
        if len(weights) == t:
            return torch.as_tensor(weights, dtype=torch.float32)
    return torch.full((t, ), 1. / t)


def authors_width_kernel(src: Tensor, t: int) -> Optional[Tensor]:
    """The authors' loader for a t = 3 CMH kernel: the 2D kernel repeated
    over time, NOT divided by t, and multiplied by (0.125, 0.75, 0.125)
    along the kernel's WIDTH (their taps broadcast against the last axis):
    ``w3d[o, i, tau, y, x] = w2d[o, i, y, x] * c[x]``. None where that
    rule does not apply (t != 3 or a kernel width other than 3)."""
    if t != 3 or src.shape[-1] != 3:
        return None
    taps = src.new_tensor(CMH_TEMPORAL_WEIGHTS)
    return src.unsqueeze(2).expand(-1, -1, t, -1, -1) * taps


def _tile_box_layer(src: Tensor, tgt: Tensor, model: nn.Module,
                    key: str) -> Tuple[Optional[Tensor], str]:
    """4 deltas per anchor -> 4T, repeated within each anchor's block."""
    head = model.bbox_head
    a, t = head.num_base_priors, head.num_box_frames
    if src.shape[1:] != tgt.shape[1:] or src.shape[0] != 4 * a \
            or tgt.shape[0] != 4 * a * t:
        return None, (f'box layer {list(src.shape)} vs {list(tgt.shape)}: '
                      f'not {a} anchors x 4 deltas -> {a} x 4T')
    blocks = src.reshape(a, 1, 4, *src.shape[1:])
    tiled = blocks.expand(a, t, 4, *src.shape[1:]).reshape(tgt.shape)
    return tiled.clone(), f'4 -> 4x{t} deltas within each of {a} anchors'


def convert_tensor(
        key: str,
        src: Tensor,
        tgt: Tensor,
        model: nn.Module,
        temporal_weights: Optional[Weights] = None,
        cmh_temporal_weights: Optional[Weights] = CMH_TEMPORAL_WEIGHTS,
        tile_box_weights: bool = True,
        box_bias_tiling: str = 'per_anchor'
) -> Tuple[str, Optional[Tensor], str]:
    """One source tensor for the target tensor ``key``: ``(status, value,
    note)``, value None when skipped."""
    shapes = f'{list(src.shape)} vs {list(tgt.shape)}'
    if src.shape == tgt.shape:
        return 'loaded', src.clone(), ''
    if key.startswith(CLS_LAYER):
        return 'skipped', None, (f'class count differs ({src.shape[0]} vs '
                                 f'{tgt.shape[0]} outputs)')
    whole_bias = box_bias_tiling == 'whole_tensor' and src.dim() == 1
    if key.startswith(BOX_LAYER) and hasattr(model, 'bbox_head') \
            and not whole_bias:
        if key.endswith('weight') and not tile_box_weights:
            return 'skipped', None, ('box weight: tile_box_weights=False '
                                     '(the authors\' loader)')
        value, note = _tile_box_layer(src, tgt, model, key)
        return ('tiled' if value is not None else 'skipped'), value, note
    if src.dim() == 4 and tgt.dim() == 5 and src.shape[:2] == tgt.shape[:2] \
            and src.shape[2:] == tgt.shape[3:]:
        t = tgt.shape[2]
        if key.startswith(CMH) and cmh_temporal_weights == AUTHORS_WIDTH:
            value = authors_width_kernel(src, t)
            if value is not None:
                return 'inflated', value, ('x (0.125, 0.75, 0.125) along the '
                                           'kernel width (the authors\')')
            cmh_temporal_weights = None
        w = temporal_kernel(t, key, temporal_weights, cmh_temporal_weights)
        value = src.unsqueeze(2) * w.to(src).view(1, 1, t, 1, 1)
        taps = w.tolist()
        note = f'1/{t} each' if len(set(taps)) == 1 else \
            ', '.join(f'{v:g}' for v in taps)
        return 'inflated', value, f'temporal weights {note}'
    if src.dim() == 1 and tgt.dim() == 1 and tgt.numel() % src.numel() == 0:
        reps = tgt.numel() // src.numel()
        return 'tiled', src.repeat(reps), f'{src.numel()} -> x{reps}'
    if src.dim() == 5 and tgt.dim() == 4:
        return 'skipped', None, f'3D kernel into a 2D layer ({shapes})'
    return 'skipped', None, f'shape {shapes}'


def inflate_state_dict(
        src_sd: StateDict,
        model: nn.Module,
        temporal_weights: Optional[Weights] = None,
        cmh_temporal_weights: Optional[Weights] = CMH_TEMPORAL_WEIGHTS,
        tile_box_weights: bool = True,
        src_format: str = 'auto',
        src_anchor_ratios: Optional[Sequence[float]] = None,
        box_bias_tiling: str = 'per_anchor'
) -> Tuple[StateDict, InflationReport]:
    """Inflate a frame-level state dict into ``model``'s shapes.

    Args:
        src_sd (dict): source tensors (:func:`load_source_state_dict`).
        model (nn.Module): the target (a CiCo detector, or any module).
        temporal_weights (list[float] | str, optional): temporal weights of
            the 3D kernels outside the CMH (None: 1/t each; 'centre').
        cmh_temporal_weights (list[float] | str, optional): the CMH's
            temporal taps (default 0.125, 0.75, 0.125 over time; 'centre':
            the centre tap only; 'authors_width': what the authors' loader
            computes, those taps along the kernel WIDTH, no division by t:
            :func:`authors_width_kernel`).
        tile_box_weights (bool): tile the box layer's weight 4 -> 4T per
            anchor (False: leave it as initialised, as the authors' loader
            did; its bias is tiled either way).
        src_format (str): 'auto', 'cico', 'mmdet_yolact' or
            'mmdet_condinst'.
        src_anchor_ratios (list[float], optional): the source's anchor
            ratios, in its order, to reorder anchor-indexed layers (default
            mmdet YOLACT's 0.5, 1, 2 for that format).
        box_bias_tiling (str): 'per_anchor' (each anchor's 4 biases T
            times) or 'whole_tensor' (the vector T times: the authors').

    Returns:
        tuple: the tensors to load (target names; ``load_state_dict(...,
        strict=False)``) and the :class:`InflationReport`.
    """
    if box_bias_tiling not in BOX_BIAS_TILINGS:
        raise ValueError(f'box_bias_tiling must be one of {BOX_BIAS_TILINGS}'
                         f', got {box_bias_tiling!r}')
    fmt = source_format(src_sd) if src_format == 'auto' else src_format
    mapped, unused = map_source_keys(src_sd, model, fmt, src_anchor_ratios)
    report = InflationReport(source=fmt, target=type(model).__name__)
    for key, why in unused:
        report.add('skipped', key, note=why)
    rules = dict(
        temporal_weights=temporal_weights,
        cmh_temporal_weights=cmh_temporal_weights,
        tile_box_weights=tile_box_weights,
        box_bias_tiling=box_bias_tiling)
    new_sd = OrderedDict()
    targets = model.state_dict()
    for key, tgt in targets.items():
        value = _convert_mapped(key, mapped, tgt, model, report, rules)
        if value is not None:
            new_sd[key] = value.to(tgt.dtype)
    for key, (src_key, _, _) in mapped.items():
        if key not in targets:
            report.add('skipped', src_key, note=_missing_reason(key, targets))
    return new_sd, report


def _convert_mapped(key: str, mapped: dict, tgt: Tensor, model: nn.Module,
                    report: InflationReport, rules: dict) -> Optional[Tensor]:
    """The value of target ``key`` from its mapped source tensor
    (:func:`convert_tensor` with ``rules``), recorded in ``report``; None
    when it keeps its initialisation."""
    if key not in mapped:
        report.add('new', key)
        return None
    src_key, src, map_note = mapped[key]
    status, value, note = convert_tensor(key, src, tgt, model, **rules)
    note = '; '.join(n for n in (map_note, note) if n)
    if status == 'skipped' and src_key != key:
        note = f'{note} (for {key})'
    report.add(status, key if status != 'skipped' else src_key, src_key, note)
    if value is None:
        report.add('new', key, note='source skipped')
    return value


def _missing_reason(key: str, targets: StateDict) -> str:
    """Why a mapped source tensor has no target."""
    if key.endswith('.bias') and key[:-4] + 'weight' in targets:
        return f'{key[:-5]} has no bias (a norm follows it)'
    return f'the model has no {key}'


# ------------------------------------------------------------------ report
def _group(key: str, fine: bool, note: str = '') -> str:
    """Row label of a key: numbered parts collapsed to ``*``; coarse
    labels keep the module only (``backbone``, ``bbox_head.cls_tower``);
    tensors skipped for a module-level reason are shown by module."""
    parts = key.split('.')
    if note in MODULE_NOTES:
        numbered = [i for i, p in enumerate(parts) if p.isdigit()]
        return '.'.join(parts[:min(numbered + [3, len(parts) - 1])])
    if fine:
        return re.sub(r'(?<=\.)\d+(?=\.|$)', '*', key)
    depth = 1 if parts[0] in ('backbone', 'neck') else 2
    return '.'.join(parts[:depth])


def format_inflation_report(report: InflationReport,
                            checkpoint: str = '') -> str:
    """The report as one table: per status the tensor count and the
    tensors, grouped (``label xN``), with the source and the rule's note
    where they say something."""
    labelled = []  # status, collapsed label, full label, note
    for status, key, src, note in report.rows:
        renamed = src != key
        fine = status not in ('loaded', 'new') or renamed or bool(note)
        label = key if renamed else _group(key, fine, note)
        if renamed and status != 'skipped':
            label = f'{label} <- {src}'
        full = key if fine and not renamed else label
        labelled.append((status, label, full, note if fine else ''))
    sizes = Counter((s, lbl, n) for s, lbl, _, n in labelled)
    groups = OrderedDict((s, OrderedDict()) for s in STATUSES)
    for status, label, full, note in labelled:
        if sizes[(status, label, note)] == 1:  # nothing to collapse
            label = full
        groups[status][(label, note)] = sizes[(status, label, note)]
    counts = report.counts()
    rows = [('status', 'tensors', 'which')]
    for status, labels in groups.items():
        items = [
            label + (f' x{n}' if n > 1 else '') + (f': {note}' if note else '')
            for (label, note), n in labels.items()
        ]
        rows.append((status, str(counts[status]), items[0] if items else '-'))
        rows.extend(('', '', item) for item in items[1:])
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    rule = '+' + '+'.join('-' * (w + 2) for w in width) + '+'
    text = [
        f'Inflation of {checkpoint or "a state dict"} '
        f'({report.source} keys) into {report.target}:', rule
    ]
    for i, row in enumerate(rows):
        text.append('| ' + ' | '.join(
            c.ljust(w) if j != 1 else c.rjust(w)
            for j, (c, w) in enumerate(zip(row, width))) + ' |')
        if i == 0 or (i + 1 < len(rows) and rows[i + 1][0]):
            text.append(rule)
    text.append(rule)
    return '\n'.join(text)


def print_inflation_report(report: InflationReport,
                           checkpoint: str = '',
                           logger: str = 'current') -> None:
    """Log :func:`format_inflation_report` (mmengine logger)."""
    print_log(
        '\n' + format_inflation_report(report, checkpoint), logger=logger)


# ------------------------------------------------------------------ checks
def check_trained_with(checkpoint: str, meta: dict, model: nn.Module) -> None:
    """Raise when the normalisation or neck recorded in the checkpoint's
    ``meta`` (:func:`.trained_with.checkpoint_signature`) differs from the
    model's; nothing to compare when it records neither.

    Raises:
        ValueError: naming the file, each difference and the fix.
    """
    recorded = checkpoint_signature(meta)
    if not recorded:
        return
    diffs = signature_mismatches(recorded, model_signature(model))
    if diffs:
        raise ValueError(
            f'InflatedPretrained: {checkpoint} was trained with another '
            'normalisation or neck than this model (' + '; '.join(diffs) +
            '). Its features would not fit: initialise this model from a '
            'checkpoint trained with its own data_preprocessor and neck, or '
            'give the model the checkpoint\'s (the authors\' COCO models: '
            'configs/_base_/models/authors_model.py, ref_data_preprocessor '
            'and ref_neck). Set model.init_cfg.check_trained_with=False only '
            'if the difference is intended.')


def check_skipped(checkpoint: str, report: InflationReport,
                  skip_keys: Sequence[str]) -> None:
    """Raise when a checkpoint tensor maps to nothing in the model (status
    'skipped') and matches none of ``skip_keys``.

    Raises:
        ValueError: naming the file, each tensor and why it fits nothing.
    """
    bad = [(key, note) for status, key, _, note in report.rows
           if status == 'skipped' and not any(
               fnmatch.fnmatchcase(key, p) for p in skip_keys)]
    if bad:
        listed = '; '.join(f'{k} ({n})' if n else k for k, n in bad[:8])
        more = f' and {len(bad) - 8} more' if len(bad) > 8 else ''
        raise ValueError(
            f'InflatedPretrained: {len(bad)} tensor(s) of {checkpoint} fit '
            f'nothing in the model: {listed}{more}. If that is intended, '
            'list them in model.init_cfg.skip_keys (keys or fnmatch '
            'patterns); otherwise the checkpoint is not the model\'s.')


# ------------------------------------------------------------- initialiser
def resolve_checkpoint(checkpoint: Union[str, Sequence[str]]) -> Optional[str]:
    """The first candidate that is a URL / ``scheme://`` or an existing
    local file; None when there is none."""
    candidates = [checkpoint] if isinstance(checkpoint, str) else checkpoint
    for c in candidates:
        if c and ('://' in c or osp.isfile(osp.expanduser(c))):
            return c
    return None


def init_children(module: nn.Module) -> None:
    """Run the children's own ``init_weights`` now, as mmengine's
    ``BaseModule.init_weights`` would after a non-``Pretrained`` init_cfg.
    They are then marked initialised, and mmengine skips them."""
    for child in module.children():
        if hasattr(child,
                   'init_weights') and not getattr(child, 'is_init', False):
            child.init_weights()
            if not isinstance(child, BaseModule):
                child.is_init = True
            if hasattr(child, '_params_init_info'):
                update_init_info(
                    child,
                    init_info='Initialized by '
                    f'`init_weights` of {type(child).__name__}')


@WEIGHT_INITIALIZERS.register_module()
class InflatedPretrained:
    """mmengine initialiser: inflate a frame-level checkpoint into the
    module (:func:`inflate_state_dict`) and log the report.

    mmengine applies a module's ``Pretrained`` init_cfg after its
    children's own ``init_weights``, any other type before them. So that
    the children's init (Xavier heads, ImageNet backbone) does not
    overwrite the inflated tensors, this initialiser first runs the
    children's ``init_weights`` itself (mmengine then skips them): the
    same order as ``Pretrained``.

    Args:
        checkpoint (str | list[str]): path or URL; a list is tried in
            order, the first existing local file or URL is used (the
            authors' converted COCO model when present, else mmdet's).
        skip_missing (bool): when no candidate exists, warn and keep the
            other initialisation instead of raising.
        skip_keys (list[str]): the checkpoint tensors that may map to
            nothing in the model (exact keys or ``fnmatch`` patterns, e.g.
            ``'bbox_head.conv_cls.*'`` when the class count differs); any
            other tensor that fits no target is an error naming it.
        check_trained_with (bool): refuse a checkpoint whose recorded
            normalisation or neck (:mod:`.trained_with`) differs from the
            model's.
        temporal_weights, cmh_temporal_weights, tile_box_weights,
            src_format, src_anchor_ratios, box_bias_tiling:
            :func:`inflate_state_dict`.
        map_location (str): where the checkpoint is loaded.
    """

    def __init__(self,
                 checkpoint: Union[str, Sequence[str]],
                 skip_missing: bool = False,
                 skip_keys: Sequence[str] = (),
                 check_trained_with: bool = True,
                 temporal_weights: Optional[Weights] = None,
                 cmh_temporal_weights: Optional[Weights] = (
                     CMH_TEMPORAL_WEIGHTS),
                 tile_box_weights: bool = True,
                 src_format: str = 'auto',
                 src_anchor_ratios: Optional[Sequence[float]] = None,
                 box_bias_tiling: str = 'per_anchor',
                 map_location: str = 'cpu') -> None:
        self.checkpoint = checkpoint
        self.skip_missing = skip_missing
        if isinstance(skip_keys, str):
            raise TypeError('skip_keys must be a list of keys / patterns, '
                            f'got the string {skip_keys!r}')
        self.skip_keys = list(skip_keys)
        self.check_trained_with = check_trained_with
        self.kwargs = dict(
            temporal_weights=temporal_weights,
            cmh_temporal_weights=cmh_temporal_weights,
            tile_box_weights=tile_box_weights,
            src_format=src_format,
            src_anchor_ratios=src_anchor_ratios,
            box_bias_tiling=box_bias_tiling)
        self.map_location = map_location
        self.report: Optional[InflationReport] = None
        self.used: Optional[str] = None

    def __call__(self, module: nn.Module) -> None:
        self.used = resolve_checkpoint(self.checkpoint)
        if self.used is None:
            msg = f'InflatedPretrained: none of {self.checkpoint} exists'
            if not self.skip_missing:
                raise FileNotFoundError(
                    msg + ': convert the authors\' COCO model into it '
                    '(tools/model_converters/cico_official_to_mmdet.py, '
                    'docs/reference_implementation.md#checkpoints), point '
                    'model.init_cfg.checkpoint at your own, or set '
                    'model.init_cfg.skip_missing=True to start from the '
                    'backbone\'s own initialisation')
            print_log(
                msg + ': the model keeps its other initialisation',
                logger='current',
                level=30)
            return
        src_sd, meta = load_source(self.used, self.map_location)
        if self.check_trained_with:
            check_trained_with(self.used, meta, module)
        init_children(module)
        new_sd, self.report = inflate_state_dict(src_sd, module, **self.kwargs)
        check_skipped(self.used, self.report, self.skip_keys)
        missing = set(module.state_dict()) - set(new_sd)
        result = module.load_state_dict(new_sd, strict=False)
        assert not result.unexpected_keys and \
            set(result.missing_keys) <= missing
        print_inflation_report(self.report, self.used)
        if hasattr(module, '_params_init_info'):
            update_init_info(module, init_info=self._get_init_info())

    def _get_init_info(self) -> str:
        """Shown by mmengine's init log."""
        return f'{self.__class__.__name__}: inflated from {self.used}'
