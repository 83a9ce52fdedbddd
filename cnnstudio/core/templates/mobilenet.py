"""MobileNetV2 (Sandler et al. 2018) as torchvision builds it, width multiplier 1.0.

Each row of the paper's Table 2 (expansion t, channels c, repeats n, stride s) is a
stage group of n inverted-residual blocks: a 1x1 expansion to t times the channels,
a 3x3 depthwise convolution, and a linear 1x1 projection, with BatchNorm after each
and ReLU6 after the first two; a block adds its input when stride and channels allow.
"""

from __future__ import annotations

from typing import Sequence

from .builder import TemplateBuilder

#: (expansion t, output channels c, repeats n, first stride s), from the paper's Table 2
INVERTED_RESIDUAL_SETTINGS = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                              (6, 160, 3, 2), (6, 320, 1, 1))
STEM_CHANNELS = 32
LAST_CHANNELS = 1280


def _inverted_residual(b: TemplateBuilder, inputs: int, outputs: int, stride: int, expansion: int) -> None:
    entry = b.last
    hidden = round(inputs * expansion)
    if expansion != 1:
        b.conv("expand_conv", hidden, 1, bias=False)
        b.batchnorm("expand_bn")
        b.add("ReLU6", "expand_relu6")
    b.add("DepthwiseConv2D", "dw_conv", {"kernel_size": 3, "strides": stride, "padding": "explicit", "pad": 1,
                                         "use_bias": False})
    b.batchnorm("dw_bn")
    b.add("ReLU6", "dw_relu6")
    b.conv("project_conv", outputs, 1, bias=False)
    projected = b.batchnorm("project_bn")
    if stride == 1 and inputs == outputs:
        b.add("Add", "add", after=[entry, projected])  # torchvision: x + self.conv(x)


def mobilenet_v2(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
    b = TemplateBuilder(input_shape)
    with b.group("stem", "Stem"):
        b.conv("conv", STEM_CHANNELS, 3, stride=2, pad=1, bias=False)
        b.batchnorm("bn")
        b.add("ReLU6", "relu6")
    channels = STEM_CHANNELS
    for stage, (expansion, width, repeats, first_stride) in enumerate(INVERTED_RESIDUAL_SETTINGS, start=1):
        with b.group(f"stage{stage}", "Stage"):
            for index in range(1, repeats + 1):
                with b.group(f"block{index}", "Inverted residual"):
                    _inverted_residual(b, channels, width, first_stride if index == 1 else 1, expansion)
                channels = width
    with b.group("head", "1x1 convolution"):
        b.conv("conv", LAST_CHANNELS, 1, bias=False)
        b.batchnorm("bn")
        b.add("ReLU6", "relu6")
    b.add("GlobalAveragePooling2D", "avgpool")
    b.add("Dropout", "dropout", {"rate": 0.2})
    b.dense("fc", classes)
    return b
