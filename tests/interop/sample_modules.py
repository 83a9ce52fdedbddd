"""Hand-written PyTorch modules, as people write them outside CNN Studio.

The import tests export them with ``torch.onnx.export`` and trace them with
``torch.fx``; the ``.py`` import runs this very file, so it imports nothing from
CNN Studio.  Inputs are small (3x16x16) to keep the tests fast.
"""

import torch
import torch.nn.functional as F
from torch import nn

INPUT_SHAPE = (3, 16, 16)


class PlainCNN(nn.Module):
    """Conv, ReLU, pooling, Flatten and two Linear layers: the lecture's kind of net."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc1 = nn.Linear(16 * 3 * 3, 32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


class BatchNormDropoutCNN(nn.Module):
    """Conv-BatchNorm-ReLU blocks with Dropout, flattened the old way (x.view(x.size(0), -1))."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
            nn.Dropout(0.2),
            nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
            nn.AvgPool2d(2),
        )
        self.drop = nn.Dropout(0.5)
        self.classifier = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = self.features(x)
        x = x.view(x.size(0), -1)
        return F.softmax(self.classifier(self.drop(x)), dim=1)


class ResidualNet(nn.Module):
    """Two residual blocks joined by Add, the second with a strided 1x1 shortcut."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.block1_conv1 = nn.Conv2d(8, 8, 3, padding=1)
        self.block1_bn = nn.BatchNorm2d(8)
        self.block1_conv2 = nn.Conv2d(8, 8, 3, padding=1)
        self.block2_conv1 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.block2_conv2 = nn.Conv2d(16, 16, 3, padding=1)
        self.shortcut = nn.Conv2d(8, 16, 1, stride=2)
        self.head = nn.Linear(16, 10)

    def forward(self, x):
        x = F.relu(self.stem(x))
        y = self.block1_conv2(F.relu(self.block1_bn(self.block1_conv1(x))))
        x = F.relu(x + y)
        y = self.block2_conv2(F.relu(self.block2_conv1(x)))
        x = F.relu(y + self.shortcut(x))
        x = x.mean(dim=(2, 3))
        return self.head(x)


class InceptionBlock(nn.Module):
    """Four parallel branches joined by Concatenate, then global pooling and a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.branch1 = nn.Conv2d(3, 4, 1)
        self.branch3_reduce = nn.Conv2d(3, 4, 1)
        self.branch3 = nn.Conv2d(4, 6, 3, padding=1)
        self.branch5_reduce = nn.Conv2d(3, 2, 1)
        self.branch5 = nn.Conv2d(2, 4, 5, padding=2)
        self.branch_pool = nn.MaxPool2d(3, stride=1, padding=1)
        self.branch_pool_proj = nn.Conv2d(3, 4, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(18, 5)

    def forward(self, x):
        b1 = F.relu(self.branch1(x))
        b3 = F.relu(self.branch3(F.relu(self.branch3_reduce(x))))
        b5 = F.relu(self.branch5(F.relu(self.branch5_reduce(x))))
        bp = F.relu(self.branch_pool_proj(self.branch_pool(x)))
        x = torch.cat([b1, b3, b5, bp], dim=1)
        return self.fc(torch.flatten(self.gap(x), 1))


class DepthwiseSeparableStack(nn.Module):
    """MobileNet-style blocks: depthwise 3x3 (groups = channels) then pointwise 1x1, each with BatchNorm."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()

        def block(channels_in: int, channels_out: int, stride: int) -> nn.Sequential:
            return nn.Sequential(
                nn.Conv2d(channels_in, channels_in, 3, stride=stride, padding=1, groups=channels_in, bias=False),
                nn.BatchNorm2d(channels_in), nn.ReLU(),
                nn.Conv2d(channels_in, channels_out, 1, bias=False), nn.BatchNorm2d(channels_out), nn.ReLU())

        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1), nn.ReLU())
        self.blocks = nn.Sequential(block(width, 2 * width, 1), block(2 * width, 4 * width, 2))
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(4 * width, 10)

    def forward(self, x):
        return self.classifier(self.flatten(self.pool(self.blocks(self.stem(x)))))


SAMPLES = {cls.__name__: cls for cls in (PlainCNN, BatchNormDropoutCNN, ResidualNet, InceptionBlock,
                                         DepthwiseSeparableStack)}


def randomized(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` in eval mode with random BatchNorm statistics, so normalisation is not the identity."""
    generator = torch.Generator().manual_seed(seed)
    for layer in module.modules():
        if isinstance(layer, nn.BatchNorm2d):
            with torch.no_grad():
                layer.running_mean.copy_(torch.randn(layer.num_features, generator=generator) * 0.1)
                layer.running_var.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
                layer.weight.copy_(torch.rand(layer.num_features, generator=generator) + 0.5)
                layer.bias.copy_(torch.randn(layer.num_features, generator=generator) * 0.1)
    return module.eval()
