"""Training sampler of the authors' epoch: every annotated frame with an
object is a key frame once (``docs/training_recipe.md#data``)."""
import math
from typing import Optional, Sized

from mmdet.datasets.samplers import TrackImgSampler
from mmdet.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class KeyFrameSampler(TrackImgSampler):
    """mmdet's ``TrackImgSampler`` (``(video, frame)`` pairs, shuffled per
    epoch, split over ranks) restricted to the frames that hold at least
    one non-ignored object: an epoch visits each such frame once as the key
    frame of a clip. Frames without objects are still read as the other
    frames of a clip.

    Args:
        dataset (VISDataset): a training VIS dataset (not a wrapper).
        seed (int, optional): shuffling seed, shared by all ranks.
    """

    def __init__(self, dataset: Sized, seed: Optional[int] = None) -> None:
        if not hasattr(dataset, 'get_data_info') or getattr(
                dataset, 'test_mode', False):
            raise TypeError('KeyFrameSampler needs a training VIS dataset, '
                            f'got {type(dataset).__name__}')
        super().__init__(dataset, seed)
        keep = set()
        for v in range(len(dataset)):
            for f, frame in enumerate(dataset.get_data_info(v)['images']):
                if any(
                        inst.get('ignore_flag', 0) == 0
                        for inst in frame['instances']):
                    keep.add((v, f))
        self.indices = [i for i in self.indices if tuple(i) in keep]
        if not self.indices:
            raise ValueError(f'{getattr(dataset, "ann_file", "the dataset")}:'
                             ' no annotated frame holds an object')
        self.num_samples = int(
            math.ceil(len(self.indices) * 1.0 / self.world_size))
        self.total_size = self.num_samples * self.world_size
