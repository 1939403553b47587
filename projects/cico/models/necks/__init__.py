from .reference_fpn import ReferenceFPN

__all__ = ['ReferenceFPN']
