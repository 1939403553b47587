from .temporal_coherence import proportion_at_least, temporal_coherence
from .vis_metric import CiCoVISMetric

__all__ = ['CiCoVISMetric', 'temporal_coherence', 'proportion_at_least']
