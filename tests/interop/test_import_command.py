"""``python -m cnnstudio import``: a project plus a run holding the weights, ready for the
studio's feature maps, fine-tuning and exports; one line and exit 2 for anything refused,
with nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from import_helpers import SAMPLES_FILE
from onnx import TensorProto, helper, numpy_helper
from sample_modules import INPUT_SHAPE, SAMPLES, randomized
from test_onnx_patterns import einsum_model

from cnnstudio.cli import main
from cnnstudio.core.build import build_model
from cnnstudio.core.project import load_project
from cnnstudio.training.export import export_model
from cnnstudio.training.run_folder import IMPORTED, list_runs, load_run_weights, runs_dir


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def small_onnx(path):
    """A conv and a classifier, written with onnx.helper: quick to make, no exporter needed."""
    rng = np.random.default_rng(1)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["out"], transB=1)]
    weights = {"w": rng.standard_normal((4, 1, 3, 3)), "b": rng.standard_normal(4),
               "fc.weight": rng.standard_normal((3, 4 * 5 * 5)), "fc.bias": rng.standard_normal(3)}
    graph = helper.make_graph(nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 5, 5])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 3])],
                              [numpy_helper.from_array(v.astype(np.float32), k) for k, v in weights.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def test_import_writes_a_project_and_an_imported_run_with_the_weights(tmp_path, capsys):
    source = small_onnx(tmp_path / "small.onnx")
    project = tmp_path / "small.cnnproj"
    code, out, err = run(capsys, "import", source, "-o", project)
    assert (code, err) == (0, "")
    assert "1 Conv2D" in out and "1 Dense" in out and f"wrote {project}" in out
    network = load_project(project).network
    [imported_run] = list_runs(runs_dir(project))
    assert imported_run.status == IMPORTED and imported_run.source == str(source)
    model = build_model(network)
    model.load_state_dict(load_run_weights(imported_run))  # strict: every key, every shape
    assert imported_run.project_file.is_file()


def test_the_imported_weights_export_like_a_trained_runs(tmp_path, capsys):
    source = small_onnx(tmp_path / "small.onnx")
    project = tmp_path / "small.cnnproj"
    assert run(capsys, "import", source, "-o", project)[0] == 0
    [imported_run] = list_runs(runs_dir(project))
    network = load_project(project).network
    target = export_model(network, imported_run.weights, "state_dict", tmp_path / "again.pt")
    exported = torch.load(target, weights_only=True)
    assert set(exported) == set(build_model(network).state_dict())


def test_an_unsupported_op_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    source = einsum_model(tmp_path / "einsum.onnx")
    before = sorted(tmp_path.iterdir())
    code, out, err = run(capsys, "import", source, "-o", tmp_path / "einsum.cnnproj")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "'pool_by_einsum' (Einsum) at node 3 of 3" in err
    assert sorted(tmp_path.iterdir()) == before


def test_an_existing_project_is_not_replaced_without_force(tmp_path, capsys):
    source = small_onnx(tmp_path / "small.onnx")
    project = tmp_path / "taken.cnnproj"
    project.write_text("keep me")
    code, _, err = run(capsys, "import", source, "-o", project)
    assert code == 2 and "already exists" in err and project.read_text() == "keep me"
    assert run(capsys, "import", source, "-o", project, "--force")[0] == 0
    assert load_project(project).network.nodes


def test_a_py_file_imports_from_the_command_line(tmp_path, capsys):
    module = randomized(SAMPLES["ResidualNet"]())
    torch.save(module.state_dict(), tmp_path / "w.pt")
    project = tmp_path / "residual.cnnproj"
    code, out, err = run(capsys, "import", SAMPLES_FILE, "-o", project, "--class", "ResidualNet",
                         "--input-shape", ",".join(map(str, INPUT_SHAPE)), "--weights", tmp_path / "w.pt")
    assert (code, err) == (0, "")
    [imported_run] = list_runs(runs_dir(project))
    model = build_model(load_project(project).network)
    model.load_state_dict(load_run_weights(imported_run))
    x = torch.randn(2, *INPUT_SHAPE)
    with torch.no_grad():
        np.testing.assert_allclose(model.eval()(x).numpy(), module(x).numpy(), atol=1e-5)


@pytest.mark.parametrize("extra, message", [
    ((), "needs its input shape"),
    (("--input-shape", "3,16,16"), "name the nn.Module class to import with --class"),
    (("--input-shape", "3,16,16", "--class", "Nope"), "has no nn.Module class 'Nope'"),
    (("--input-shape", "3,16,16", "--class", "PlainCNN", "--class-args", "{oops"), "must be JSON"),
    (("--input-shape", "3,16,16", "--class", "PlainCNN", "--class-args", '{"colour": 1}'),
     "PlainCNN(colour=1) failed: TypeError"),
    (("--input-shape", "3,16,16", "--class", "PlainCNN", "--weights", "missing.pt"), "no such file"),
])
def test_py_import_mistakes_exit_2_with_one_line(tmp_path, capsys, extra, message):
    code, out, err = run(capsys, "import", SAMPLES_FILE, "-o", tmp_path / "x.cnnproj", *extra)
    assert code == 2 and message in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_onnx_refuses_options_meant_for_py_files(tmp_path, capsys):
    code, _, err = run(capsys, "import", small_onnx(tmp_path / "s.onnx"), "-o", tmp_path / "s.cnnproj",
                       "--class", "Net")
    assert code == 2 and "--class apply to PyTorch .py files" in err


def test_finding_the_importers_loads_neither_torch_nor_onnx():
    """The studio's File menu lists the importers' suffixes; that must not cost torch's 2 s."""
    code = ("import sys; from cnnstudio.interop.model_import import IMPORTERS, _load_builtin_importers; "
            "_load_builtin_importers(); assert {'.onnx', '.py'} <= set(IMPORTERS), IMPORTERS; "
            "loaded = [m for m in ('torch', 'onnx', 'PySide6') if m in sys.modules]; assert not loaded, loaded")
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr


def test_when_the_project_cannot_be_written_no_weights_are_left_behind(tmp_path, monkeypatch):
    import cnnstudio.interop.model_import as model_import
    from cnnstudio.core.project import ProjectError

    imported = model_import.import_model(small_onnx(tmp_path / "small.onnx"))

    def full_disk(project, path):
        raise ProjectError(path, "", "could not save: No space left on device", "Free some space.")

    monkeypatch.setattr(model_import, "save_project", full_disk)
    before = sorted(tmp_path.iterdir())
    with pytest.raises(model_import.ModelImportError, match="No space left on device"):
        model_import.save_imported(imported, tmp_path / "small.cnnproj")
    assert sorted(tmp_path.iterdir()) == before
