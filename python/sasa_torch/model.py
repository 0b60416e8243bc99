"""SasaNet: the network a ModelConfig describes (the twin of src/models/builder.ts), NCHW:
    x [B, C_in, S, S] -> stem -> groups of bottleneck blocks -> global average pool -> fc -> [B, classes].
Stems: 'conv' (stem.conv 7x7/2 'same', stem.bn, ReLU, 3x3/2 'same' max pool), 'small_conv' (3x3/1, no
pool), 'attention' / 'small_attention' (AttentionStem, pool 4 / 1). Bottleneck (ResNet v1.5):
conv1 1x1, bn1, ReLU -> conv2 (3x3 conv or local attention; the block's stride) -> bn2, ReLU ->
conv3 1x1 -> bn3 -> + shortcut (identity, or downsample.0 1x1 strided conv + downsample.1 BN) -> ReLU.
Names are sasa's PyTorch names (layer2.0.conv2.query.weight, ...), so sasa's exports load one-to-one.
"""
import torch
from torch import nn

from .config import model_config, resolve_config
from .layers import AttentionStem, ConvSame, LocalSelfAttention2d, MaxPoolSame, batch_norm


class ConvStem(nn.Module):
    def __init__(self, cin, width, kernel, stride, pool, decay, epsilon):
        super().__init__()
        self.conv = ConvSame(cin, width, kernel, stride)
        self.bn = batch_norm(width, decay, epsilon)
        self.pool = MaxPoolSame(3, 2) if pool else None

    def forward(self, x):
        y = torch.relu(self.bn(self.conv(x)))
        return self.pool(y) if self.pool is not None else y


class Bottleneck(nn.Module):
    def __init__(self, b, attention, decay, epsilon, zero_init_last_bn):
        super().__init__()
        self.conv1 = ConvSame(b.in_channels, b.width, 1)
        self.bn1 = batch_norm(b.width, decay, epsilon)
        if b.spatial == "conv":
            self.conv2 = ConvSame(b.width, b.width, 3, b.stride)
        else:
            a = attention
            self.conv2 = LocalSelfAttention2d(b.width, b.width, a.kernel_size, a.heads, b.stride, a.positional,
                                              a.logits, a.padding, a.scale)
        self.bn2 = batch_norm(b.width, decay, epsilon)
        self.conv3 = ConvSame(b.width, b.out_channels, 1)
        self.bn3 = batch_norm(b.out_channels, decay, epsilon)
        if zero_init_last_bn:
            nn.init.zeros_(self.bn3.weight)
        self.downsample = None
        if b.projection:
            self.downsample = nn.Sequential(ConvSame(b.in_channels, b.out_channels, 1, b.stride),
                                            batch_norm(b.out_channels, decay, epsilon))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + (self.downsample(x) if self.downsample is not None else x))


class SasaNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        c = config if hasattr(config, "blocks") and hasattr(config, "features") else resolve_config(config)
        self.config = c
        s, d, e = c.stem, c.bn_decay, c.bn_epsilon
        if s.type in ("conv", "small_conv"):
            big = s.type == "conv"
            self.stem = ConvStem(c.input_channels, s.width, 7 if big else 3, 2 if big else 1, big, d, e)
        else:
            self.stem = AttentionStem(c.input_channels, s.width, s.heads, 4, s.values, s.mixtures, s.relative,
                                      4 if s.type == "attention" else 1, d, e)
        groups = {}
        for b in c.blocks:
            groups.setdefault(b.name.split(".")[0], []).append(
                Bottleneck(b, c.attention, d, e, c.zero_init_last_bn))
        for name, blocks in groups.items():
            self.add_module(name, nn.Sequential(*blocks))
        self.group_names = list(groups)
        self.fc = nn.Linear(c.features, c.classes)
        nn.init.xavier_normal_(self.fc.weight)
        nn.init.zeros_(self.fc.bias)
        for m in self.modules():
            if isinstance(m, ConvSame):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x):
        """x [B, C_in, S, S] -> logits [B, classes]."""
        y = self.stem(x)
        for name in self.group_names:
            y = getattr(self, name)(y)
        return self.fc(y.mean(dim=(2, 3)))


def build_model(config):
    """The network of a ModelConfig, a ResolvedConfig or sasa's camelCase config dict."""
    return SasaNet(config)


def create_model(name, overrides=None):
    """A registered model, e.g. create_model('sasa_resnet26', {'classes': 10, 'inputSize': 32})."""
    return SasaNet(model_config(name, overrides))
