"""``PackClipInputs``: mmdet's ``PackTrackInputs`` plus the clip meta keys."""
import inspect
from typing import Optional, Sequence, Tuple, Union

from mmdet.datasets.transforms import PackTrackInputs
from mmdet.registry import TRANSFORMS

from ...utils.clip_layout import CLIP_META_KEYS, layout_of_frames

#: mmdet's ``PackTrackInputs`` default meta keys (read from its signature,
#: so a new mmdet default is kept).
MMDET_TRACK_META_KEYS: Tuple[str, ...] = tuple(
    inspect.signature(
        PackTrackInputs.__init__).parameters['default_meta_keys'].default)

#: The default meta keys of :class:`PackClipInputs`: mmdet's, then
#: :data:`~projects.cico.utils.clip_layout.CLIP_META_KEYS`.
CLIP_DEFAULT_META_KEYS: Tuple[str, ...] = MMDET_TRACK_META_KEYS + tuple(
    k for k in CLIP_META_KEYS if k not in MMDET_TRACK_META_KEYS)


@TRANSFORMS.register_module()
class PackClipInputs(PackTrackInputs):
    """Pack a clip (T frames) into ``inputs`` (T, 3, H, W) and a
    ``TrackDataSample`` of T frame samples.

    Same as mmdet's ``PackTrackInputs``, whose default meta keys are
    extended by the test-clip layout keys
    (:data:`~projects.cico.utils.clip_layout.CLIP_META_KEYS`:
    ``clip_index``, ``is_last_clip``, ``is_new_frame``, ``is_output_frame``,
    ``is_pad_frame``). Keys missing from the results (e.g. the clip keys in
    training) are skipped, so one pack step serves training and testing.
    A test clip's ``TrackDataSample`` also gets the typed layout of the clip
    (metainfo ``clip_layout``, a ``ClipLayout``), which the model reads.

    Args:
        meta_keys (str | tuple[str], optional): extra meta keys.
        default_meta_keys (Sequence[str]): the meta keys packed by default.
    """

    def __init__(
            self,
            meta_keys: Optional[Union[str, Tuple[str, ...]]] = None,
            default_meta_keys: Sequence[str] = CLIP_DEFAULT_META_KEYS) -> None:
        super().__init__(
            meta_keys=meta_keys, default_meta_keys=tuple(default_meta_keys))
        self.default_meta_keys = tuple(default_meta_keys)

    def transform(self, results: dict) -> dict:
        """mmdet's packing, plus the clip's ``ClipLayout`` on the
        ``TrackDataSample`` when its frames carry the layout keys."""
        packed = super().transform(results)
        sample = packed['data_samples']
        layout = layout_of_frames([f.metainfo for f in sample])
        if layout is not None:
            sample.set_metainfo(dict(clip_layout=layout))
        return packed

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
