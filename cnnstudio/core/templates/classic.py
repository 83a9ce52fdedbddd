"""The lecture's network, LeNet-5, AlexNet and VGG, written as their papers and torchvision lay them out."""

from __future__ import annotations

from typing import Sequence

from .builder import TemplateBuilder


def lecture(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
    """The lecture's Keras model, with Keras's layer names."""
    b = TemplateBuilder(input_shape, "input_1")
    b.add("Conv2D", "conv2d_1", {"filters": 32, "kernel_size": 3, "activation": "relu"})
    b.add("MaxPool2D", "maxpooling2d_1", {"kernel_size": 2})
    b.add("Conv2D", "conv2d_2", {"filters": 64, "kernel_size": 3, "activation": "relu"})
    b.add("MaxPool2D", "maxpooling2d_2", {"kernel_size": 2})
    b.add("Conv2D", "conv2d_3", {"filters": 64, "kernel_size": 3, "activation": "relu"})
    b.add("Flatten", "flatten_1")
    b.dense("dense_1", 64, "relu")
    b.dense("dense_2", classes, "softmax")
    return b


def lenet5(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
    """LeCun et al. 1998, with the paper's layer names (C1, S2, ... F6)."""
    b = TemplateBuilder(input_shape)
    b.conv("c1", 6, 5, activation="tanh")
    b.add("AvgPool2D", "s2", {"kernel_size": 2})
    b.conv("c3", 16, 5, activation="tanh")
    b.add("AvgPool2D", "s4", {"kernel_size": 2})
    b.conv("c5", 120, 5, activation="tanh")
    b.add("Flatten", "flatten")
    b.dense("f6", 84, "tanh")
    b.dense("output", classes, "softmax")
    return b


def alexnet(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
    """torchvision's ``alexnet``: features, a 6x6 adaptive average pool, classifier."""
    b = TemplateBuilder(input_shape)
    with b.group("features", "Feature extractor"):
        b.conv("conv1", 64, 11, stride=4, pad=2, activation="relu")
        b.max_pool("pool1", 3, 2)
        b.conv("conv2", 192, 5, pad=2, activation="relu")
        b.max_pool("pool2", 3, 2)
        b.conv("conv3", 384, 3, pad=1, activation="relu")
        b.conv("conv4", 256, 3, pad=1, activation="relu")
        b.conv("conv5", 256, 3, pad=1, activation="relu")
        b.max_pool("pool5", 3, 2)
    b.add("AdaptiveAvgPool2D", "avgpool", {"output_size": 6})
    b.add("Flatten", "flatten")
    with b.group("classifier", "Classifier"):
        b.add("Dropout", "dropout1", {"rate": 0.5})
        b.dense("fc1", 4096, "relu")
        b.add("Dropout", "dropout2", {"rate": 0.5})
        b.dense("fc2", 4096, "relu")
        b.dense("fc3", classes)
    return b


#: convolutions per stage (torchvision's configurations A, B, D and E)
VGG_STAGES = {11: (1, 1, 2, 2, 2), 13: (2, 2, 2, 2, 2), 16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}
VGG_WIDTHS = (64, 128, 256, 512, 512)


def vgg(depth: int, batch_norm: bool):
    """torchvision's ``vgg<depth>`` / ``vgg<depth>_bn``: five stages of 3x3 convolutions
    and a 2x2 max pool, a 7x7 adaptive average pool, and three fully connected layers."""
    def build(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
        b = TemplateBuilder(input_shape)
        for stage, (convs, width) in enumerate(zip(VGG_STAGES[depth], VGG_WIDTHS), start=1):
            with b.group(f"stage{stage}", "VGG stage"):
                for index in range(1, convs + 1):
                    if batch_norm:  # torchvision keeps the convolution's bias before BatchNorm
                        b.conv(f"conv{index}", width, 3, pad=1)
                        b.batchnorm(f"bn{index}")
                        b.add("ReLU", f"relu{index}")
                    else:
                        b.conv(f"conv{index}", width, 3, pad=1, activation="relu")
                b.max_pool("pool", 2, 2)
        b.add("AdaptiveAvgPool2D", "avgpool", {"output_size": 7})
        b.add("Flatten", "flatten")
        with b.group("classifier", "Classifier"):
            b.dense("fc1", 4096, "relu")
            b.add("Dropout", "dropout1", {"rate": 0.5})
            b.dense("fc2", 4096, "relu")
            b.add("Dropout", "dropout2", {"rate": 0.5})
            b.dense("fc3", classes)
        return b
    return build
