"""sasa_torch: a PyTorch twin of sasa's networks (the TypeScript library's src/models).

The same networks as torch.nn modules, built from the same configuration fields (config.py mirrors
src/models/config.ts), padded as sasa pads (TensorFlow's 'same'), loading and writing sasa's
PyTorch-named safetensors (safetensors_io.py) so a model moves TypeScript -> PyTorch -> TypeScript
with identical logits. Modules take and return NCHW tensors like torchvision's.

    from sasa_torch import create_model, load_safetensors
    net = create_model('resnet26_demo').eval()
    load_safetensors(net, 'weights.safetensors')
"""
from .config import REGISTRY, ConfigError, ModelConfig, model_config, resolve_config
from .model import SasaNet, build_model, create_model
from .safetensors_io import load_safetensors, read_safetensors, save_safetensors, write_safetensors

__all__ = [
    "REGISTRY", "ConfigError", "ModelConfig", "model_config", "resolve_config",
    "SasaNet", "build_model", "create_model",
    "load_safetensors", "read_safetensors", "save_safetensors", "write_safetensors",
]
