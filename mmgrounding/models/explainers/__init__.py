from .conv_grad_cam import ConvGradCAMExplainer
from .grad_cam import GradCAMExplainer

__all__ = ['ConvGradCAMExplainer', 'GradCAMExplainer']
