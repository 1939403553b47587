"""CiCo's per-clip network as one module with plain tensor outputs, the
part a deployment backend (ONNX) runs.

``ClipNetwork(model)(clip)`` maps one preprocessed clip (T, 3, H, W) to the
dense outputs of the CPH per FPN level (class, box, mask-parameter, quality
and embedding maps, as ``CiCoClipHead.forward`` returns them) followed by the
CMH's clip prototypes. :meth:`ClipNetwork.unflatten` turns that flat tuple
back into what ``CiCo.predict_from_outputs`` takes, so candidate selection,
clip masks, NMS and the tracker stay the PyTorch model's.
"""
from typing import List, Sequence, Tuple

import torch.nn as nn
from torch import Tensor


class ClipNetwork(nn.Module):
    """Backbone + FPN + CPH + CMH of a :class:`CiCo` model on one clip.

    Args:
        model (CiCo): the model (its modules are shared, not copied).
    """

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        # the head's outputs in its order (CiCoClipHead.FORWARD_OUTPUTS)
        self.head_outputs = tuple(model.bbox_head.FORWARD_OUTPUTS)
        self.kinds = [
            k for k in self.head_outputs
            if k != 'quality' or model.bbox_head.with_quality
        ]
        self.num_levels = len(model.bbox_head.prior_generator.strides)

    @property
    def output_names(self) -> List[str]:
        """Names of :meth:`forward`'s outputs, in order."""
        return [
            f'{kind}_{lvl}' for kind in self.kinds
            for lvl in range(self.num_levels)
        ] + ['protos']

    def forward(self, clip: Tensor) -> Tuple[Tensor, ...]:
        """(T, 3, H, W) preprocessed frames -> the flat outputs."""
        x = self.model.extract_feat(clip)
        head_outs = dict(zip(self.head_outputs, self.model.bbox_head(x)))
        flat = [out for kind in self.kinds for out in head_outs[kind]]
        return (*flat, self.model.mask_head(x)[0])

    def unflatten(self, outputs: Sequence[Tensor]) -> Tuple[tuple, Tensor]:
        """Flat outputs -> (``bbox_head(x)``'s five per-level lists, the
        prototypes)."""
        expected = len(self.output_names)
        if len(outputs) != expected:
            raise ValueError(f'the clip network has {expected} outputs '
                             f'({", ".join(self.output_names[:3])}, ...), '
                             f'got {len(outputs)}')
        n = self.num_levels
        per_kind = {
            kind: list(outputs[i * n:(i + 1) * n])
            for i, kind in enumerate(self.kinds)
        }
        per_kind.setdefault('quality', [None] * n)
        return tuple(per_kind[k] for k in self.head_outputs), outputs[-1]
