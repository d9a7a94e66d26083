from .grad_cam import GradCAMExplainer

__all__ = ['GradCAMExplainer']
