from .clip_mask_loss import ClipMaskLoss
from .track_embed_loss import TrackEmbedLoss

__all__ = ['ClipMaskLoss', 'TrackEmbedLoss']
