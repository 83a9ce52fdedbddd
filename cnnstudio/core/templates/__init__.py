"""The gallery of classic architectures, as projects to start from.

Each ``Template`` builds its network for a given input shape and class count.
The layouts are the published ones; where torchvision's differs from the paper,
torchvision's is used (so weights and numbers match what people meet in
practice) and the description says so.  Nothing here imports Qt or torch.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Callable, Sequence

from ..analysis import Analysis, analyze
from ..layers.base import Shape
from ..group_layout import collapse_all
from ..network import Network
from ..project import Project
from .builder import TemplateBuilder
from .classic import VGG_STAGES, alexnet, lecture, lenet5, vgg
from .mobilenet import mobilenet_v2
from .resnet import resnet

IMAGENET = (3, 224, 224)
MAX_CLASSES = 1 << 20


class TemplateError(ValueError):
    """A template that does not exist or does not fit the asked input; the message is one line."""


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    default_input: Shape
    default_classes: int
    builder: Callable[[Sequence[int], int], TemplateBuilder]

    def network(self, input_shape: Sequence[int] | None = None, classes: int | None = None) -> Network:
        """The network for ``input_shape`` (C, H, W) and ``classes``; ``TemplateError`` if they do not fit."""
        shape = tuple(self.default_input if input_shape is None else input_shape)
        classes = self.default_classes if classes is None else classes
        _check_request(self, shape, classes)
        builder = self.builder(shape, classes)
        network = builder.network
        analysis = analyze(network)
        if not analysis.ok:
            raise TemplateError(self._too_small(shape, analysis))
        network.set_groups(builder.group_blocks())
        collapse_all(network)
        return network

    def project(self, input_shape: Sequence[int] | None = None, classes: int | None = None) -> Project:
        """A new project holding this template's network, named after it."""
        network = self.network(input_shape, classes)
        shape = tuple(analyze(network).input_shape)
        classes = self.default_classes if classes is None else classes
        dataset: dict = {"num_classes": classes}
        if shape == (1, 28, 28) and classes == 10:
            dataset = {"name": "mnist", "num_classes": 10}
        return Project(network, name=self.title, description=self.description, dataset=dataset)

    def smallest_side(self, channels: int) -> int | None:
        """The smallest square input side this template accepts (None when none up to 4096 does)."""
        def fits(side: int) -> bool:
            return analyze(self.builder((channels, side, side), 2).network).ok
        low, high = 1, max(self.default_input[1:])
        while not fits(high):
            if high >= 4096:
                return None
            low, high = high + 1, high * 2
        while low < high:  # shapes only grow with the input, so "fits" flips once
            middle = (low + high) // 2
            if fits(middle):
                high = middle
            else:
                low = middle + 1
        return low

    def _too_small(self, shape: Shape, analysis: Analysis) -> str:
        side = self.smallest_side(shape[0])
        error = analysis.errors[0] if analysis.errors else None
        first = f"{error.node_name}: {error.message}" if error else "the network has no output"
        asked = "x".join(str(d) for d in shape)
        if side is None:
            return f"{self.title} does not fit a {asked} input: {first}"
        return f"{self.title} needs an input of at least {shape[0]}x{side}x{side}; {asked} is too small ({first})"


def _check_request(template: Template, shape: Shape, classes: int) -> None:
    if len(shape) != 3 or any(not isinstance(d, int) or d < 1 for d in shape):
        raise TemplateError(f"{template.title} needs an image input C,H,W of positive sizes such as "
                            f"{','.join(str(d) for d in template.default_input)}, got {','.join(map(str, shape))}")
    if not isinstance(classes, int) or not 1 <= classes <= MAX_CLASSES:
        raise TemplateError(f"the number of classes must be a whole number from 1 to {MAX_CLASSES}, got {classes}")


_TORCHVISION = "Layout as in torchvision's {name}"
TEMPLATES: dict[str, Template] = {t.key: t for t in [
    Template("lecture", "Lecture CNN",
             "The lecture's MNIST network: three 3x3 convolutions (32, 64, 64 filters) with 2x2 max pooling "
             "between them, Flatten, Dense 64 and a softmax output; 93,322 parameters for 28x28 digits.",
             (1, 28, 28), 10, lecture),
    Template("lenet5", "LeNet-5",
             "LeCun et al. 1998: C1 6@5x5, S2 pool, C3 16@5x5, S4 pool, C5 120@5x5, F6 84, output, with tanh. "
             "As usually rebuilt today: average pooling without the paper's trainable coefficients, C3 connected to "
             "all S2 maps (the paper wires 10 of 16 partially) and a softmax output instead of RBF units. "
             "Needs 32x32 inputs, as in the paper (MNIST digits padded).",
             (1, 32, 32), 10, lenet5),
    Template("alexnet", "AlexNet",
             "Krizhevsky et al. 2012 in torchvision's single-GPU version (from 'One weird trick'): 64, 192, 384, 256, "
             "256 filters instead of the paper's 96, 256, 384, 384, 256 split over two GPUs, no local response "
             "normalisation, and a 6x6 adaptive average pool before the classifier.",
             IMAGENET, 1000, alexnet),
    *[Template(f"vgg{depth}{'_bn' if bn else ''}", f"VGG-{depth}{' with BatchNorm' if bn else ''}",
               f"Simonyan and Zisserman 2014, configuration {'ABDE'[i]}: five stages of 3x3 convolutions "
               f"({'-'.join(str(n) for n in VGG_STAGES[depth])}) each ending in 2x2 max pooling, then three fully "
               "connected layers. " + (_TORCHVISION.format(name=f"vgg{depth}{'_bn' if bn else ''}")
               + (": BatchNorm after every convolution (not in the paper)" if bn else "")
               + ", with a 7x7 adaptive average pool before the classifier so any input of 32x32 or more fits."),
               IMAGENET, 1000, vgg(depth, bn))
      for i, depth in enumerate((11, 13, 16, 19)) for bn in (False, True)],
    Template("resnet18", "ResNet-18",
             "He et al. 2015: a 7x7 stem, then four stages of 2 residual blocks (two 3x3 convolutions each, "
             "64-128-256-512 filters) with identity or 1x1 projection shortcuts, global average pooling and a "
             "fully connected layer. " + _TORCHVISION.format(name="resnet18") + ".",
             IMAGENET, 1000, resnet((2, 2, 2, 2), bottleneck=False)),
    Template("resnet34", "ResNet-34",
             "He et al. 2015: like ResNet-18 with 3, 4, 6 and 3 residual blocks per stage. "
             + _TORCHVISION.format(name="resnet34") + ".",
             IMAGENET, 1000, resnet((3, 4, 6, 3), bottleneck=False)),
    Template("resnet50", "ResNet-50",
             "He et al. 2015: 3, 4, 6 and 3 bottleneck blocks (1x1 reduce, 3x3, 1x1 expand to 4x) per stage. "
             "torchvision's ResNet v1.5: a stage's stride-2 step sits on the 3x3 convolution of its first block, "
             "not on the first 1x1 as in the paper.",
             IMAGENET, 1000, resnet((3, 4, 6, 3), bottleneck=True)),
    Template("mobilenet_v2", "MobileNetV2",
             "Sandler et al. 2018, width 1.0: a stride-2 stem, 17 inverted-residual blocks (1x1 expansion, 3x3 "
             "depthwise, linear 1x1 projection, ReLU6) in the paper's 7 stages, a 1x1 convolution to 1280 channels, "
             "global average pooling and a classifier with dropout 0.2. " + _TORCHVISION.format(name="mobilenet_v2")
             + ".",
             IMAGENET, 1000, mobilenet_v2),
]}


def template_key(name: str) -> str:
    """The key of the template called ``name`` (``ResNet-50``, ``resnet50``, ``VGG16_BN``...)."""
    wanted = _folded(name)
    for key, template in TEMPLATES.items():
        if wanted in (_folded(key), _folded(template.title)):
            return key
    close = difflib.get_close_matches(name.lower(), list(TEMPLATES), n=2, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise TemplateError(f"there is no template {name!r}; {hint}known templates: {', '.join(TEMPLATES)}")


def get_template(name: str) -> Template:
    return TEMPLATES[template_key(name)]


def _folded(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum()).replace("withbatchnorm", "bn")


__all__ = ["IMAGENET", "TEMPLATES", "Template", "TemplateError", "get_template", "template_key"]
