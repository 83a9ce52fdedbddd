"""The lecture's networks, written as the lecture's Keras code reads."""

from cnnstudio.core.network import Network, sequential

LECTURE_CONV_BASE = [
    ("Input", {"shape": [1, 28, 28]}),
    ("Conv2D", {"filters": 32, "kernel_size": 3, "activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2}),
    ("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
    ("MaxPool2D", {"kernel_size": 2}),
    ("Conv2D", {"filters": 64, "kernel_size": 3, "activation": "relu"}),
]
LECTURE_CLASSIFIER = [
    ("Flatten", {}),
    ("Dense", {"units": 64, "activation": "relu"}),
    ("Dense", {"units": 10, "activation": "softmax"}),
]


def lecture_net() -> Network:
    return sequential(LECTURE_CONV_BASE + LECTURE_CLASSIFIER)


def lecture_conv_base() -> Network:
    return sequential(LECTURE_CONV_BASE)


def lecture_net_without_pooling() -> Network:
    return sequential([layer for layer in LECTURE_CONV_BASE if layer[0] != "MaxPool2D"] + LECTURE_CLASSIFIER)
