"""Each template against the same network written directly with torch.nn (``reference_nets``):
parameters, multiply-accumulates and every layer's output shape agree, and the built model runs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnstudio.core.analysis import analyze
from cnnstudio.core.build import build_model
from cnnstudio.core.templates import TEMPLATES, TemplateError, get_template, template_key
from lecture import lecture_net
from reference_nets import reference

#: our layer type -> the kind of torch module it is compared with; global pools are left out on both
#: sides (torchvision's MobileNetV2 pools with a function, which no hook sees)
KINDS = {"Conv2D": "conv", "DepthwiseConv2D": "conv", "Dense": "linear", "BatchNorm": "bn",
         "MaxPool2D": "maxpool", "AvgPool2D": "avgpool"}
TORCH_KINDS = {nn.Conv2d: "conv", nn.Linear: "linear", nn.BatchNorm2d: "bn", nn.MaxPool2d: "maxpool",
               nn.AvgPool2d: "avgpool"}


def squeezed(shape) -> tuple[int, ...]:
    """Trailing 1s dropped, so (512, 1, 1) after a pool reads like (512,) after a Dense."""
    dims = list(shape)
    while len(dims) > 1 and dims[-1] == 1:
        dims.pop()
    return tuple(dims)


def torch_profile(module: nn.Module, x: torch.Tensor) -> tuple[list[tuple[str, tuple]], int, torch.Tensor]:
    """(kind, output shape) of every conv/linear/bn/pool in the order they run, the
    multiply-accumulates per sample counted from the modules' own sizes, and the output."""
    seen: list[tuple[str, tuple]] = []
    macs = [0]

    def hook(layer, inputs, output):
        kind = TORCH_KINDS[type(layer)]
        seen.append((kind, squeezed(output.shape[1:])))
        per_sample = output.numel() // output.shape[0]
        if isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            macs[0] += per_sample * (layer.in_channels // layer.groups) * kh * kw
        elif isinstance(layer, nn.Linear):
            macs[0] += layer.in_features * layer.out_features

    handles = [m.register_forward_hook(hook) for m in module.modules() if type(m) in TORCH_KINDS]
    try:
        output = module(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen, macs[0], output


def analysed_profile(analysis) -> list[tuple[str, tuple]]:
    return [(KINDS[node.type], squeezed(node.output_shape)) for node in (analysis.nodes[i] for i in analysis.order)
            if node.type in KINDS]


def parameters(module: nn.Module) -> tuple[int, int]:
    """(trainable parameters, BatchNorm running statistics) of a torch module."""
    running = sum(b.numel() for name, b in module.named_buffers() if name.endswith(("running_mean", "running_var")))
    return sum(p.numel() for p in module.parameters()), running


def assert_matches_reference(key: str, shape: tuple[int, int, int], classes: int, device: str) -> None:
    network = TEMPLATES[key].network(shape, classes)
    analysis = analyze(network)
    assert analysis.ok
    with torch.device(device):
        ref = reference(key, shape[0], classes, shape[1]).eval()
        ref_layers, ref_macs, ref_output = torch_profile(ref, torch.zeros(2, *shape))
    assert (analysis.trainable_params, analysis.non_trainable_params) == parameters(ref)
    assert analysis.macs == ref_macs
    assert analysed_profile(analysis) == ref_layers
    assert analysis.output_shape == tuple(ref_output.shape[1:]) == (classes,)


@pytest.mark.parametrize("key", list(TEMPLATES))
def test_every_template_at_its_default_input_matches_the_torch_network(key):
    """At the published input size (224x224 for the ImageNet networks), on the meta device:
    shapes and sizes without allocating the weights."""
    template = TEMPLATES[key]
    assert_matches_reference(key, template.default_input, template.default_classes, "meta")
    with torch.device("meta"):
        model = build_model(template.network())
        out = model(torch.zeros(2, *template.default_input))
    analysis = analyze(template.network())
    assert parameters(model) == (analysis.trainable_params, analysis.non_trainable_params)
    assert tuple(out.shape) == (2, *analysis.output_shape)


#: small inputs where the architecture allows, so real weights and a real forward pass stay cheap;
#: AlexNet, ResNet-34 and VGG (tens of millions of weights, no layer kind the others lack) run on meta above
SMALL_INPUTS = {"lecture": (1, 28, 28), "lenet5": (1, 32, 32), "resnet18": (3, 64, 64), "resnet50": (3, 40, 32),
                "mobilenet_v2": (3, 32, 32)}


@pytest.mark.parametrize("key", list(SMALL_INPUTS))
def test_built_template_runs_on_a_small_input_with_the_predicted_shapes(key):
    shape = SMALL_INPUTS[key]
    torch.manual_seed(0)
    assert_matches_reference(key, shape, 7, "meta")
    network = TEMPLATES[key].network(shape, 7)
    analysis = analyze(network)
    model = build_model(network).eval()
    with torch.no_grad():
        out = model(torch.randn(3, *shape))
    assert tuple(out.shape) == (3, *analysis.output_shape) == (3, 7)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("key, shape", [("alexnet", (3, 63, 63)), ("resnet34", (3, 48, 40))])
def test_alexnet_and_resnet34_at_small_inputs_match_the_torch_network(key, shape):
    assert_matches_reference(key, shape, 7, "meta")


@pytest.mark.parametrize("key", [k for k in TEMPLATES if k.startswith("vgg")])
def test_vgg_fits_32x32_inputs_after_its_five_pools(key):
    """Five 2x2 pools take 32x32 down to 1x1; the 7x7 adaptive pool then repeats it (meta: no weights)."""
    assert_matches_reference(key, (3, 32, 32), 10, "meta")
    with pytest.raises(TemplateError, match=r"at least 3x32x32"):
        TEMPLATES[key].network((3, 31, 31), 10)


# torchvision's documented parameter counts for 1000 classes (its model tables), facts from outside this code
TORCHVISION_PARAMS = {"alexnet": 61_100_840, "vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
                      "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992, "vgg19": 143_667_240,
                      "vgg19_bn": 143_678_248, "resnet18": 11_689_512, "resnet34": 21_797_672,
                      "resnet50": 25_557_032, "mobilenet_v2": 3_504_872}


@pytest.mark.parametrize("key", list(TORCHVISION_PARAMS))
def test_trainable_parameters_are_torchvisions_published_counts(key):
    assert analyze(TEMPLATES[key].network()).trainable_params == TORCHVISION_PARAMS[key]


def test_lecture_template_is_the_lectures_93322_parameter_network():
    network = get_template("lecture").network((1, 28, 28), 10)
    analysis = analyze(network)
    assert analysis.total_params == 93_322
    lecture = analyze(lecture_net())
    assert [(n.name, n.output_shape, n.params) for n in analysis.nodes.values()] == \
        [(n.name, n.output_shape, n.params) for n in lecture.nodes.values()]


def test_template_project_is_named_and_carries_the_class_count():
    project = get_template("resnet18").project((3, 96, 96), 5)
    assert project.name == "ResNet-18" and "torchvision" in project.description
    assert project.dataset == {"num_classes": 5}
    assert analyze(project.network, num_classes=5).ok
    assert get_template("lecture").project().dataset == {"name": "mnist", "num_classes": 10}


@pytest.mark.parametrize("key, channels, side", [("lenet5", 1, 32), ("alexnet", 3, 63), ("lecture", 1, 18)])
def test_an_input_too_small_names_the_smallest_that_works(key, channels, side):
    template = TEMPLATES[key]
    with pytest.raises(TemplateError) as caught:
        template.network((channels, side - 1, side - 1), 10)
    message = str(caught.value)
    assert f"needs an input of at least {channels}x{side}x{side}" in message and "\n" not in message
    template.network((channels, side, side), 10)
    # torch agrees: the hand-written network runs at that size and fails one pixel smaller
    with torch.device("meta"):
        ref = reference(key, channels, 10, side)
        ref(torch.zeros(1, channels, side, side))
        with pytest.raises(RuntimeError):
            ref(torch.zeros(1, channels, side - 1, side - 1))


@pytest.mark.parametrize("asked, key", [("ResNet-50", "resnet50"), ("resnet50", "resnet50"),
                                        ("VGG-16 with BatchNorm", "vgg16_bn"), ("VGG16_BN", "vgg16_bn"),
                                        ("mobilenetv2", "mobilenet_v2"), ("LeNet-5", "lenet5")])
def test_templates_are_found_by_key_or_title(asked, key):
    assert template_key(asked) == key


def test_an_unknown_template_lists_the_known_ones():
    with pytest.raises(TemplateError) as caught:
        template_key("resnet51")
    assert "there is no template 'resnet51'" in str(caught.value)
    assert "did you mean resnet50" in str(caught.value) and "mobilenet_v2" in str(caught.value)


@pytest.mark.parametrize("shape, classes, words", [((3, 224), 10, "C,H,W"), ((3, 0, 224), 10, "positive"),
                                                   ((3, 224, 224), 0, "classes")])
def test_bad_requests_are_refused_in_one_line(shape, classes, words):
    with pytest.raises(TemplateError, match=words):
        get_template("alexnet").network(shape, classes)
