from .clip_mask_loss import ClipMaskLoss
from .quality_bce_loss import QualityBCELoss
from .track_embed_loss import TrackEmbedLoss

__all__ = ['ClipMaskLoss', 'QualityBCELoss', 'TrackEmbedLoss']
