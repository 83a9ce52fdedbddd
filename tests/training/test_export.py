"""Every export format loads back and computes what the trained model computes (atol 1e-5);
weights that do not fit are refused by name; files are written whole or not at all."""

from __future__ import annotations

import runpy
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file
from torch import nn

from cnnstudio.core.build import BuildError, build_model
from cnnstudio.core.codegen import generate_code
from cnnstudio.core.network import Network, sequential
from cnnstudio.core.project import load_project
from cnnstudio.training.export import (FORMATS, ExportError, ExportNote, WeightsError, code_weights_path,
                                       export_model, export_onnx, export_torchscript, load_weights)

PROJECTS = Path(__file__).resolve().parents[2] / "projects"
ATOL = 1e-5


def project_network(name: str) -> Network:
    return load_project(PROJECTS / f"{name}.cnnproj").network


def trained(network: Network, seed: int = 0) -> nn.Module:
    """A model whose weights and batch-norm statistics are not the defaults (as after training)."""
    torch.manual_seed(seed)
    model = build_model(network)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
        for _ in range(3):  # moves the running mean/var away from 0/1
            model(torch.rand(8, *model.input_shape) * 2)
    return model.eval()


def generated_class(network: Network, class_name: str = "Net") -> type:
    namespace: dict = {"__name__": "generated_for_test"}
    exec(generate_code(network, class_name), namespace)
    return namespace[class_name]


def inputs(model: nn.Module, n: int) -> torch.Tensor:
    return torch.rand(n, *model.input_shape, generator=torch.Generator().manual_seed(n))


def expected(model: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return model(x).numpy()


@pytest.fixture(scope="module")
def lecture() -> tuple[Network, nn.Module]:
    network = project_network("lecture_mnist")
    return network, trained(network)


NETWORKS = ["lecture_mnist", "batchnorm_dropout_net", "residual_net"]


# ---------------------------------------------------------------------- each format loads back

@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
@pytest.mark.parametrize("name", NETWORKS)
def test_torchscript_file_loads_with_jit_load_and_matches_the_model(tmp_path, name):
    network = project_network(name)
    model = trained(network)
    path = export_model(network, model.state_dict(), "torchscript", tmp_path / "model.pt")

    loaded = torch.jit.load(str(path))
    assert not loaded.training
    for n in (1, 5):
        x = inputs(model, n)
        with torch.no_grad():
            np.testing.assert_allclose(loaded(x).numpy(), expected(model, x), atol=ATOL)
            np.testing.assert_allclose(loaded.logits(x).numpy(), model.logits(x).numpy(), atol=ATOL)


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:DeprecationWarning")
def test_torchscript_falls_back_to_tracing_with_a_note(tmp_path, lecture, monkeypatch):
    network, model = lecture

    def refuse(*args, **kwargs):
        raise RuntimeError("cannot script this\nsecond line")

    monkeypatch.setattr(torch.jit, "script", refuse)
    with pytest.warns(ExportNote, match="scripting failed \\(cannot script this\\); the model was traced"):
        path = export_torchscript(network, model.state_dict(), tmp_path / "traced.pt")
    loaded = torch.jit.load(str(path))
    x = inputs(model, 5)  # traced at batch 2: the batch axis still follows the input
    with torch.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), expected(model, x), atol=ATOL)


@pytest.mark.parametrize("name", ["lecture_mnist", "batchnorm_dropout_net"])
def test_onnx_file_runs_in_onnxruntime_at_batch_1_and_5_quietly(tmp_path, name, capfd):
    import onnxruntime

    network = project_network(name)
    model = trained(network)
    path = export_model(network, model.state_dict(), "onnx", tmp_path / "model.onnx")

    out, err = capfd.readouterr()
    assert (out, err) == ("", "")  # no progress lines, no torchvision warnings in the user's console
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    [graph_input] = session.get_inputs()
    assert graph_input.name == "input" and isinstance(graph_input.shape[0], str)  # a named, dynamic axis
    assert [o.name for o in session.get_outputs()] == ["output"]
    for n in (1, 5):
        x = inputs(model, n)
        [result] = session.run(None, {"input": x.numpy()})
        assert result.shape == (n, 10)
        np.testing.assert_allclose(result, expected(model, x), atol=ATOL)
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]  # no temp folder or stray data file


def test_onnx_failure_surfaces_as_an_export_error_and_writes_nothing(tmp_path, lecture, monkeypatch):
    network, model = lecture

    def broken(*args, **kwargs):
        print("[torch.onnx] noise that must not leak")
        raise RuntimeError("unsupported operator aten::mystery")

    monkeypatch.setattr(torch.onnx, "export", broken)
    with pytest.raises(ExportError, match="ONNX export failed: unsupported operator aten::mystery") as caught:
        export_onnx(network, model.state_dict(), tmp_path / "model.onnx")
    assert "noise" in caught.value.log
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("fmt", ["state_dict", "safetensors"])
def test_weights_files_load_strictly_into_build_model_and_the_generated_code(tmp_path, name, fmt):
    network = project_network(name)
    model = trained(network)
    path = export_model(network, model.state_dict(), fmt, tmp_path / f"weights.{fmt}")

    state = torch.load(path, weights_only=True) if fmt == "state_dict" else load_file(path)
    assert load_weights(path).keys() == state.keys()  # the format is recognised from the content
    x = inputs(model, 5)
    for fresh in (build_model(network), generated_class(network)()):
        fresh.load_state_dict(state, strict=True)
        np.testing.assert_allclose(expected(fresh.eval(), x), expected(model, x), atol=ATOL)


def test_code_export_writes_the_module_and_its_weights_beside_it(tmp_path, lecture):
    network, model = lecture
    path = export_model(network, model.state_dict(), "code", tmp_path / "lecture_net.py", class_name="LectureNet",
                        title="Lecture 04")

    weights = code_weights_path(path)
    assert weights == tmp_path / "lecture_net.weights.pt" and weights.exists()
    source = path.read_text()
    assert source.startswith('"""Lecture 04: a PyTorch model') and "lecture_net.weights.pt" in source
    module = runpy.run_path(str(path))  # what the comment at the end of the file tells the user to do
    loaded = module["LectureNet"]()
    loaded.load_state_dict(torch.load(weights, weights_only=True))
    x = inputs(model, 3)
    np.testing.assert_allclose(expected(loaded.eval(), x), expected(model, x), atol=ATOL)


def test_code_export_without_weights_writes_only_the_module(tmp_path, lecture):
    network, _ = lecture
    path = export_model(network, None, "code", tmp_path / "net.py")
    assert [p.name for p in tmp_path.iterdir()] == ["net.py"]
    assert path.read_text() == generate_code(network, "Net")


def test_train_script_format_writes_a_parsable_script(tmp_path, lecture):
    network, model = lecture
    with pytest.warns(ExportNote, match="--init"):
        path = export_model(network, model.state_dict(), "train-script", tmp_path / "train.py")
    compile(path.read_text(), str(path), "exec")


# ---------------------------------------------------------------------- weights that do not fit

def test_mismatched_weights_are_refused_naming_the_first_key_and_both_shapes(tmp_path, lecture):
    network, model = lecture
    state = dict(model.state_dict())
    state["conv2d_2.weight"] = torch.zeros(64, 16, 3, 3)
    target = tmp_path / "model.onnx"

    with pytest.raises(WeightsError) as caught:
        export_model(network, state, "onnx", target)
    error = caught.value
    assert str(error) == ("the given weights do not fit this network: conv2d_2.weight has shape (64, 16, 3, 3) "
                          "in the weights but (64, 32, 3, 3) in the network")
    assert (error.key, error.file_shape, error.network_shape) == ("conv2d_2.weight", (64, 16, 3, 3),
                                                                 (64, 32, 3, 3))
    assert not target.exists()


def test_weights_of_another_network_are_refused_from_a_file(tmp_path, lecture):
    network, _ = lecture
    other = build_model(project_network("lecture_mnist_no_pooling"))
    weights = tmp_path / "other.pt"
    torch.save(other.state_dict(), weights)

    with pytest.raises(WeightsError, match=r"other\.pt do not fit this network: dense_1\.weight has shape "
                                           r"\(64, 30976\) in the weights but \(64, 576\) in the network"):
        export_model(network, weights, "state_dict", tmp_path / "out.pt")


def test_missing_and_extra_keys_are_named(lecture, tmp_path):
    network, model = lecture
    state = dict(model.state_dict())
    del state["dense_2.bias"]
    with pytest.raises(WeightsError, match=r"dense_2\.bias \(shape \(10,\) in the network\) is missing"):
        export_model(network, state, "safetensors", tmp_path / "a.safetensors")
    state = dict(model.state_dict(), extra_layer=torch.zeros(3))
    with pytest.raises(WeightsError, match=r"the weights have extra_layer \(shape \(3,\)\), which the network"):
        export_model(network, state, "safetensors", tmp_path / "a.safetensors")


class RunsCode:
    """Pickled as a call to exec: a weights file must never be able to do this."""

    def __reduce__(self):
        return exec, ("raise SystemExit('code from the weights file ran')",)


def test_loading_never_runs_code_from_the_file(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"conv2d_1.weight": torch.zeros(1), "payload": RunsCode()}, path)
    with pytest.raises(WeightsError, match="evil.pt: not a PyTorch weights file that can be loaded safely"):
        load_weights(path)


def test_load_weights_unwraps_checkpoints_and_ddp_prefixes_and_refuses_junk(tmp_path, lecture):
    network, model = lecture
    state = model.state_dict()
    path = tmp_path / "checkpoint.pt"
    torch.save({"epoch": 3, "state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    assert list(load_weights(path)) == list(state)

    (tmp_path / "notes.txt").write_text("not weights")
    with pytest.raises(WeightsError, match="notes.txt: not a PyTorch weights file"):
        load_weights(tmp_path / "notes.txt")
    with pytest.raises(WeightsError, match="missing.pt: no such file"):
        load_weights(tmp_path / "missing.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(WeightsError, match="holds a list, not a state_dict"):
        load_weights(tmp_path / "list.pt")


# ---------------------------------------------------------------------- the rest of the contract

def test_a_failed_export_leaves_the_old_file_and_no_temp_files(tmp_path, lecture, monkeypatch):
    network, model = lecture
    target = tmp_path / "model.pt"
    target.write_bytes(b"the previous export")

    def crash(obj, f, *args, **kwargs):
        Path(f).write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        export_model(network, model.state_dict(), "state_dict", target)
    assert target.read_bytes() == b"the previous export"
    assert [p.name for p in tmp_path.iterdir()] == ["model.pt"]


def test_without_weights_the_export_says_it_is_untrained(tmp_path, lecture):
    network, _ = lecture
    with pytest.warns(ExportNote, match="untrained"):
        export_model(network, None, "state_dict", tmp_path / "fresh.pt")
    build_model(network).load_state_dict(load_weights(tmp_path / "fresh.pt"), strict=True)


def test_bad_requests_are_refused_clearly(tmp_path, lecture):
    network, model = lecture
    with pytest.raises(ValueError, match="unknown export format 'tflite'; choose one of: torchscript, onnx"):
        export_model(network, None, "tflite", tmp_path / "x")
    with pytest.raises(ValueError, match="does not exist"):
        export_model(network, model.state_dict(), "state_dict", tmp_path / "no" / "such" / "folder.pt")
    with pytest.raises(ValueError, match="this is a folder"):
        export_model(network, model.state_dict(), "state_dict", tmp_path)
    broken = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 1, "kernel_size": 3})])
    with pytest.raises(BuildError):
        export_model(broken, None, "onnx", tmp_path / "x.onnx")
    assert set(FORMATS) == {"torchscript", "onnx", "state_dict", "safetensors", "code", "train-script", "keras"}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a format alias works, and weights given means no note
        export_model(network, model.state_dict(), "state-dict", tmp_path / "alias.pt")
