"""ResNet-18, -34 and -50 as torchvision builds them (ResNet v1.5).

Each stage (``layer1`` .. ``layer4``) is a group of residual blocks; each block is a
group whose main path ends in an ``add`` with the shortcut, then a ReLU.  The
shortcut is the block's input itself, or a strided 1x1 convolution with
BatchNorm (``downsample``) where the shape changes.
"""

from __future__ import annotations

from typing import Callable, Sequence

from .builder import TemplateBuilder

STAGE_WIDTHS = (64, 128, 256, 512)


def _basic_block(b: TemplateBuilder, inplanes: int, planes: int, stride: int) -> int:
    entry = b.last
    first = b.conv("conv1", planes, 3, stride, pad=1, bias=False)
    b.batchnorm("bn1")
    b.add("ReLU", "relu1")
    b.conv("conv2", planes, 3, pad=1, bias=False)
    main = b.batchnorm("bn2")
    _join(b, entry, first, main, inplanes, planes, stride)
    return planes


def _bottleneck(b: TemplateBuilder, inplanes: int, planes: int, stride: int) -> int:
    entry = b.last
    first = b.conv("conv1", planes, 1, bias=False)
    b.batchnorm("bn1")
    b.add("ReLU", "relu1")
    b.conv("conv2", planes, 3, stride, pad=1, bias=False)  # v1.5: the stride sits here, not on conv1
    b.batchnorm("bn2")
    b.add("ReLU", "relu2")
    b.conv("conv3", planes * 4, 1, bias=False)
    main = b.batchnorm("bn3")
    _join(b, entry, first, main, inplanes, planes * 4, stride)
    return planes * 4


def _join(b: TemplateBuilder, entry: str, first: str, main: str, inplanes: int, outplanes: int,
          stride: int) -> None:
    """The shortcut (beside the main path, from ``first`` down) and the add."""
    shortcut = entry
    if stride != 1 or inplanes != outplanes:
        b.last = entry
        conv = b.conv("downsample_conv", outplanes, 1, stride, bias=False, beside=first)
        shortcut = b.batchnorm("downsample_bn", beside=b.network.outputs_of(first)[0])
        assert b.network.inputs_of(shortcut) == [conv]
    b.add("Add", "add", after=[main, shortcut])  # torchvision: out += identity
    b.add("ReLU", "relu")


def resnet(blocks: Sequence[int], bottleneck: bool) -> Callable[[Sequence[int], int], TemplateBuilder]:
    block, kind = (_bottleneck, "Bottleneck block") if bottleneck else (_basic_block, "Residual block")

    def build(input_shape: Sequence[int], classes: int) -> TemplateBuilder:
        b = TemplateBuilder(input_shape)
        with b.group("stem", "Stem"):
            b.conv("conv1", 64, 7, stride=2, pad=3, bias=False)
            b.batchnorm("bn1")
            b.add("ReLU", "relu")
            b.max_pool("maxpool", 3, 2, pad=1)
        channels = 64
        for stage, (count, width) in enumerate(zip(blocks, STAGE_WIDTHS), start=1):
            with b.group(f"layer{stage}", "Stage"):
                for index in range(1, count + 1):
                    stride = 2 if stage > 1 and index == 1 else 1
                    with b.group(f"block{index}", kind):
                        channels = block(b, channels, width, stride)
        b.add("GlobalAveragePooling2D", "avgpool")
        b.dense("fc", classes)
        return b
    return build
