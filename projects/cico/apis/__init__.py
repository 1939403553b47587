from .inference import FrameResult, VideoInferencer, init_model, open_source

__all__ = ['init_model', 'VideoInferencer', 'FrameResult', 'open_source']
