from .cico import CiCo

__all__ = ['CiCo']
