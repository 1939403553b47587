from .inference import (FrameResult, VideoInferencer, init_model,
                        instance_id_map, open_source)

__all__ = [
    'init_model', 'VideoInferencer', 'FrameResult', 'open_source',
    'instance_id_map'
]
