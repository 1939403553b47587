"""Clip masks from clip prototypes and per-instance mask parameters.

``ClipLincombMask`` is CiCo-Yolact's FCN (paper Eq. 5): one 1x1x1 dynamic
conv without bias, i.e. the linear combination ``P_t . theta`` for every frame
t of the clip. The crop by the circumscribed box is applied by the mask head,
which owns the box geometry. CiCo-CondInst's dynamic FCN (Eq. 6) lives beside
it and shares the interface.
"""
import torch
import torch.nn as nn
from mmdet.registry import MODELS
from torch import Tensor


@MODELS.register_module()
class ClipLincombMask(nn.Module):
    """Eq. 5 without the crop: ``logits[i, t] = sum_k theta_ik P[k, t]``.

    Args:
        num_protos (int): K, prototypes (= mask parameters per instance).
    """

    def __init__(self, num_protos: int = 32) -> None:
        super().__init__()
        self.num_protos = num_protos

    @property
    def num_params(self) -> int:
        """Mask parameters the CPH must predict per anchor."""
        return self.num_protos

    def forward(self,
                protos: Tensor,
                params: Tensor,
                boxes: Tensor = None) -> Tensor:
        """
        Args:
            protos (Tensor): (K, T, h, w) prototypes of one clip.
            params (Tensor): (n, K) coefficients.
            boxes (Tensor, optional): unused (interface of the dynamic FCN).

        Returns:
            Tensor: (n, T, h, w) mask logits.
        """
        k, t, h, w = protos.shape
        assert params.shape[1] == k == self.num_protos, (
            f'{params.shape[1]} coefficients for {k} prototypes '
            f'(num_protos={self.num_protos})')
        return (params @ protos.reshape(k, -1)).view(-1, t, h, w)


@MODELS.register_module()
class ClipCondInstFCN(nn.Module):
    """Eq. 6: three dynamic 1x1x1 convs on ``[P, O]``: the clip prototypes
    (K = 8 channels) concatenated with the relative coordinates of every
    location to the centre of the instance's circumscribed box.

    ``rel_coords='offset'`` (the paper, CondInst): 2 channels, the x and y
    offsets divided by the box's longer side (scale-invariant "size of
    interest"); 169 parameters for K = 8. ``rel_coords='gaussian'`` (the
    authors' code, ``docs/reference_implementation.md#condinst-head``): 1
    channel,
    ``exp(-0.5 ((dx / sx)^2 + (dy / sy)^2))`` with ``s = max(1.5 * box side,
    1)`` around the rounded box centre; 161 parameters. The same map is used
    for every frame of the clip.

    Parameter layout (per instance): all weights (layer 0, 1, 2; each
    out-channel-major ``[out, in]``, coordinate channels first in ``in``),
    then all biases - the CondInst/reference layout.

    Args:
        num_protos (int): K prototype channels (8).
        channels (int): hidden channels of the dynamic FCN (8).
        num_layers (int): dynamic convs (3).
        rel_coords (str): 'offset' or 'gaussian'.
        gaussian_sigma_ratio (float): sigma / box side for 'gaussian' (1.5).
        chunk_size (int): instances processed at once (bounds memory).
    """

    def __init__(self,
                 num_protos: int = 8,
                 channels: int = 8,
                 num_layers: int = 3,
                 rel_coords: str = 'offset',
                 gaussian_sigma_ratio: float = 1.5,
                 chunk_size: int = 64) -> None:
        super().__init__()
        if rel_coords not in ('offset', 'gaussian'):
            raise ValueError(f"rel_coords must be 'offset' or 'gaussian', "
                             f'got {rel_coords!r}')
        if num_layers < 1:
            raise ValueError('the dynamic FCN needs at least one layer')
        self.num_protos = num_protos
        self.channels = channels
        self.num_layers = num_layers
        self.rel_coords = rel_coords
        self.gaussian_sigma_ratio = gaussian_sigma_ratio
        self.chunk_size = chunk_size
        self.num_coord_channels = 2 if rel_coords == 'offset' else 1
        ins = [num_protos + self.num_coord_channels] + [channels] * (
            num_layers - 1)
        outs = [channels] * (num_layers - 1) + [1]
        self.layer_shapes = list(zip(outs, ins))

    @property
    def num_params(self) -> int:
        """Weights and biases of the dynamic FCN per instance."""
        return sum(o * i + o for o, i in self.layer_shapes)

    def coord_maps(self, boxes: Tensor, size: tuple) -> Tensor:
        """(n, 4) circumscribed boxes in prototype pixels -> (n, c, h, w)
        relative-coordinate maps (pixel centres at +0.5)."""
        h, w = size
        ys = torch.arange(h, device=boxes.device, dtype=boxes.dtype) + 0.5
        xs = torch.arange(w, device=boxes.device, dtype=boxes.dtype) + 0.5
        ctr = (boxes[:, :2] + boxes[:, 2:]) / 2
        wh = (boxes[:, 2:] - boxes[:, :2]).clamp(min=1)
        if self.rel_coords == 'offset':
            soi = wh.max(1)[0][:, None, None]
            dx = (xs[None, None, :] - ctr[:, 0, None, None]) / soi
            dy = (ys[None, :, None] - ctr[:, 1, None, None]) / soi
            return torch.stack([dx.expand(-1, h, w), dy.expand(-1, h, w)], 1)
        sigma = (wh * self.gaussian_sigma_ratio).clamp(min=1)
        # the centre pixel as the authors take it: torch.round (half to
        # even), on pixel indices (hence + 0.5 against the pixel centres)
        ctr = ctr.round() + 0.5
        sx, sy = sigma[:, 0, None, None], sigma[:, 1, None, None]
        dx = (xs[None, None, :] - ctr[:, 0, None, None]) / sx
        dy = (ys[None, :, None] - ctr[:, 1, None, None]) / sy
        return torch.exp(-0.5 * (dx**2 + dy**2))[:, None]

    def split_params(self, params: Tensor) -> tuple:
        """(n, num_params) -> per layer weights (n, out, in), biases
        (n, out)."""
        n = params.shape[0]
        sizes = [o * i for o, i in self.layer_shapes
                 ] + [o for o, _ in self.layer_shapes]
        parts = list(torch.split(params, sizes, dim=1))
        k = self.num_layers
        weights = [
            p.reshape(n, o, i)
            for p, (o, i) in zip(parts[:k], self.layer_shapes)
        ]
        return weights, parts[k:]

    def forward(self, protos: Tensor, params: Tensor, boxes: Tensor) -> Tensor:
        """
        Args:
            protos (Tensor): (K, T, h, w) clip prototypes of one clip.
            params (Tensor): (n, num_params) dynamic FCN parameters.
            boxes (Tensor): (n, 4) circumscribed boxes in prototype pixels.

        Returns:
            Tensor: (n, T, h, w) mask logits.
        """
        k, t, h, w = protos.shape
        assert k == self.num_protos, (
            f'{k} prototypes, the FCN expects {self.num_protos}')
        assert params.shape[1] == self.num_params, (
            f'{params.shape[1]} mask parameters, the FCN needs '
            f'{self.num_params}: set bbox_head.num_params')
        n = params.shape[0]
        feats = protos.reshape(k, t * h * w)
        out = []
        for s in range(0, n, self.chunk_size):
            p = params[s:s + self.chunk_size]
            weights, biases = self.split_params(p)
            coords = self.coord_maps(boxes[s:s + self.chunk_size], (h, w))
            coords = coords[:, :, None].expand(-1, -1, t, -1, -1).reshape(
                len(p), self.num_coord_channels, t * h * w)
            x = torch.cat([coords, feats[None].expand(len(p), -1, -1)], 1)
            for layer, (wt, b) in enumerate(zip(weights, biases)):
                x = torch.bmm(wt, x) + b[:, :, None]
                if layer < self.num_layers - 1:
                    x = x.relu()
            out.append(x.view(len(p), t, h, w))
        if not out:
            return protos.new_zeros(0, t, h, w)
        return torch.cat(out)
