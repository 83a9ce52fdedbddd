"""What torch.fx import cannot map is refused with the node, the call and its place."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnstudio.interop.model_import import ModelImportError, UnsupportedModelError
from cnnstudio.interop.torch_import import import_module
from cnnstudio.interop.torch_source import module_classes
from import_helpers import SAMPLES_FILE


class Branchy(nn.Module):
    def forward(self, x):
        return x if x.sum() > 0 else -x


class WithLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(8, 8)

    def forward(self, x):
        return self.rnn(x)[0]


class Shared(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)

    def forward(self, x):
        return self.conv(F.relu(self.conv(x)))


class TwoHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.a, self.b = nn.Linear(4, 2), nn.Linear(4, 3)

    def forward(self, x):
        return self.a(x), self.b(x)


class ChannelProduct(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 1)

    def forward(self, x):
        return self.conv(x) * x


def test_a_forward_that_branches_on_values_cannot_be_traced():
    with pytest.raises(ModelImportError, match="torch.fx cannot trace it"):
        import_module(Branchy(), (3, 4, 4))


def test_an_lstm_is_refused_naming_the_module_and_its_place():
    with pytest.raises(UnsupportedModelError) as caught:
        import_module(WithLSTM(), (3, 8))
    error = caught.value
    assert (error.node, error.op) == ("rnn", "module rnn")
    assert error.where == "at node 2 of 3, reading 'x' (3, 8)"
    assert "torch.nn.LSTM" in error.need


def test_a_layer_called_twice_shares_weights_which_the_catalog_cannot():
    with pytest.raises(UnsupportedModelError, match="shared weights"):
        import_module(Shared(), (3, 6, 6))


def test_two_outputs_are_refused():
    with pytest.raises(ModelImportError, match="return one tensor"):
        import_module(TwoHeads(), (4,))


def test_a_product_of_two_computed_tensors_is_refused():
    with pytest.raises(UnsupportedModelError, match=r"'mul' \(operator.mul\).*Add and Concatenate only"):
        import_module(ChannelProduct(), (3, 4, 4))


def test_the_studio_lists_a_files_classes_without_running_it(tmp_path):
    marker = tmp_path / "ran.txt"
    source = tmp_path / "net.py"
    source.write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                      "import torch\nclass Helper:\n    pass\nclass Net(torch.nn.Module):\n    pass\n")
    assert module_classes(source) == ["Net", "Helper"]
    assert not marker.exists()
    assert module_classes(SAMPLES_FILE)[:2] == ["PlainCNN", "BatchNormDropoutCNN"]


class Adaptive(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(size)

    def forward(self, x):
        return self.pool(x)


def test_adaptive_average_pooling_to_a_fixed_size():
    from cnnstudio.core.layers import CATALOG

    x = torch.randn(2, 3, 10, 10)
    even = import_module(Adaptive(5), (3, 10, 10))  # 10 -> 5: windows of 2, whatever the catalog has
    [pool] = [node for node in even.network.nodes if node.type != "Input"]
    assert pool.type in ("AdaptiveAvgPool2D", "AvgPool2D")
    if "AdaptiveAvgPool2D" in CATALOG:
        uneven = import_module(Adaptive(3), (3, 10, 10))
        from import_helpers import run_imported
        torch.testing.assert_close(run_imported(uneven, x), Adaptive(3)(x))
    else:
        assert pool.params["kernel_size"] == [2, 2] and pool.params["strides"] is None
        with pytest.raises(UnsupportedModelError, match=r"'pool' \(module pool\).*10x10 to 3x3.*AdaptiveAvgPool2D"):
            import_module(Adaptive(3), (3, 10, 10))
