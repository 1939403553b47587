from .clip_head import CiCoClipHead

__all__ = ['CiCoClipHead']
