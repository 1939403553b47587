"""Run CiCo's clip network in onnxruntime, the rest in PyTorch.

``tools/deployment/export_onnx.py`` exports :class:`ClipNetwork` (backbone,
FPN, CPH and CMH on one clip). :class:`OrtClipModel` has the same
``test_step`` as the model: preprocessing by the model's data preprocessor,
the clip network in onnxruntime, then ``CiCo.predict_from_outputs`` for
candidates, clip masks, NMS, the tracker and the per-frame results, so both
backends share every step after the network. Unlike the PyTorch path it
recomputes the frames shared by consecutive clips (the exported network
takes whole clips).
"""
from typing import List, Optional

import torch

from ..models.vis import ClipNetwork


class OrtClipModel:
    """A CiCo model whose clip network runs in onnxruntime.

    Args:
        model (CiCo): the PyTorch model of the same config and checkpoint
            (preprocessing and post-processing).
        onnx_file (str): the exported clip network.
        providers (list[str], optional): onnxruntime execution providers;
            default CUDA when the model is on CUDA and onnxruntime has it,
            else CPU.
    """

    def __init__(self,
                 model: torch.nn.Module,
                 onnx_file: str,
                 providers: Optional[List[str]] = None) -> None:
        try:
            import onnxruntime as ort
        except ImportError as e:  # optional dependency
            raise ImportError(
                'the onnxruntime backend needs onnxruntime: pip install -r '
                'requirements/deploy.txt') from e
        self.model = model
        self.network = ClipNetwork(model)
        if providers is None:
            available = ort.get_available_providers()
            on_cuda = next(model.parameters()).is_cuda
            providers = ['CUDAExecutionProvider'] if (
                on_cuda and 'CUDAExecutionProvider' in available) else []
            providers.append('CPUExecutionProvider')
        self.session = ort.InferenceSession(onnx_file, providers=providers)
        self.onnx_file = onnx_file
        inp = self.session.get_inputs()[0]
        self.input_name, self.input_shape = inp.name, list(inp.shape)
        names = [o.name for o in self.session.get_outputs()]
        if names != self.network.output_names:
            raise ValueError(
                f'{onnx_file} does not match the model: its outputs are '
                f'{names[:3]}... ({len(names)}), the config gives '
                f'{self.network.output_names[:3]}... '
                f'({len(self.network.output_names)}); export it from this '
                'config with tools/deployment/export_onnx.py')

    def _check_shape(self, clip: torch.Tensor) -> None:
        for dim, (want, got) in enumerate(zip(self.input_shape, clip.shape)):
            if isinstance(want, int) and want != got:
                raise ValueError(
                    f'{self.onnx_file} takes clips of shape '
                    f'{tuple(self.input_shape)}, got {tuple(clip.shape)} '
                    f'(dimension {dim}): export with --shape for these '
                    'frames or with --dynamic')

    @torch.no_grad()
    def test_step(self, data: dict) -> list:
        """One clip, as ``CiCo.test_step``."""
        data = self.model.data_preprocessor(data, False)
        inputs = data['inputs']
        self.model._check_clip(inputs)
        clip = inputs[0].float().contiguous()
        self._check_shape(clip)
        outs = self.session.run(None, {self.input_name: clip.cpu().numpy()})
        device = inputs.device
        outs = [torch.from_numpy(o).to(device) for o in outs]
        head_outs, protos = self.network.unflatten(outs)
        return self.model.predict_from_outputs(head_outs, protos,
                                               data['data_samples'])
