"""Test-time sampler: one clip per step, whole videos per rank, in order."""
from typing import Iterator, List, Optional, Sized, Tuple

import numpy as np
from mmdet.registry import DATA_SAMPLERS
from mmengine.dist import get_dist_info
from torch.utils.data import Sampler


def split_videos(clip_counts: List[int], world_size: int) -> List[List[int]]:
    """Split videos into ``world_size`` contiguous chunks with balanced clip
    counts. A video is never split; ranks may get no video."""
    cum = np.cumsum([0] + list(clip_counts))
    total = cum[-1]
    bounds = [0]
    for r in range(1, world_size):
        target = total * r / world_size
        idx = int(np.searchsorted(cum, target))
        # the video boundary whose cumulative clip count is nearest
        if idx > 0 and target - cum[idx - 1] < cum[min(idx, len(cum) - 1)] - \
                target:
            idx -= 1
        bounds.append(min(max(idx, bounds[-1]), len(clip_counts)))
    bounds.append(len(clip_counts))
    return [list(range(bounds[r], bounds[r + 1])) for r in range(world_size)]


@DATA_SAMPLERS.register_module()
class VideoClipSampler(Sampler):
    """Yields ``(video_index, clip_index)`` for every clip of the videos of
    this rank, videos in order and the clips of a video consecutively, so a
    model can keep per-video state (tracker memory, overlap features).

    Under DDP each rank gets a contiguous chunk of whole videos, balanced by
    clip count (``dataset.num_clips(video_index)``). No padding is added.

    Args:
        dataset (Sized): a ``VISDataset`` in test mode.
        seed (int, optional): unused; accepted because mmengine passes it.
    """

    def __init__(self, dataset: Sized, seed: Optional[int] = None) -> None:
        if not hasattr(dataset, 'num_clips'):
            raise TypeError(
                'VideoClipSampler needs a dataset with num_clips(video_index) '
                f'(e.g. VISDataset), got {type(dataset).__name__}')
        self.dataset = dataset
        self.rank, self.world_size = get_dist_info()
        counts = [dataset.num_clips(v) for v in range(len(dataset))]
        self.videos = split_videos(counts, self.world_size)[self.rank]
        self.indices: List[Tuple[int, int]] = [(v, c) for v in self.videos
                                               for c in range(counts[v])]

    def __iter__(self) -> Iterator[Tuple[int, int]]:
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)

    def set_epoch(self, epoch: int) -> None:
        """Test order is fixed; kept for the sampler interface."""
