from .box_recall import box_recall_hits, union_box
from .pointing import box_centres, heatmap_peaks, pointing_hits

__all__ = ['box_recall_hits', 'union_box', 'box_centres', 'heatmap_peaks', 'pointing_hits']
