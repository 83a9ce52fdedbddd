"""The command line: summary, export and schema, and how bad input is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cnnstudio.cli import main
from cnnstudio.core import sequential
from cnnstudio.core.project import SCHEMA_FILE_NAME, Project, save_project
from golden_files import check_golden
from hostile_projects import HOSTILE_FILES

ROOT = Path(__file__).resolve().parents[1]
LECTURE = ROOT / "projects" / "lecture_mnist.cnnproj"


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_summary_of_the_lecture_net_matches_the_reviewed_table(capsys):
    code, out, _ = run(capsys, "summary", LECTURE, "--order", "keras")
    assert code == 0
    check_golden("lecture_mnist_summary.txt", out)
    assert "(None, 26, 26, 32)" in out and "Total params: 93,322" in out
    assert "Receptive field of conv2d_3: 18x18 (41.3% of the 28x28 input)" in out


def test_summary_json_uses_pytorch_order_without_batch_axis(capsys):
    code, out, _ = run(capsys, "summary", LECTURE, "--json")
    assert code == 0
    data = json.loads(out)
    first_conv = next(layer for layer in data["layers"] if layer["name"] == "conv2d_1")
    assert first_conv == {**first_conv, "type": "Conv2D", "output_shape": [32, 26, 26], "params": 320}
    assert data["total_params"] == data["trainable_params"] == 93_322
    assert data["non_trainable_params"] == 0
    assert data["receptive_field"]["layer"] == "conv2d_3"
    assert [row["footprint"][0] for row in data["receptive_field"]["footprint"]] == [18, 16, 8, 6, 3, 1]
    assert data["memory"]["float16"]["weights_bytes"] * 2 == data["memory"]["float32"]["weights_bytes"]


def test_summary_of_a_1000_layer_chain(tmp_path, capsys):
    body = [("ReLU", {}), ("Conv2D", {"filters": 4, "padding": "same"})]
    network = sequential([("Input", {"shape": [4, 16, 16]}), *[body[i % 2] for i in range(997)],
                          ("GlobalAveragePooling2D", {}), ("Dense", {"units": 10})])
    path = tmp_path / "long.cnnproj"
    save_project(Project(network), path)
    code, out, _ = run(capsys, "summary", path, "--json")
    assert code == 0
    assert len(json.loads(out)["layers"]) == 1000


BAD_FILES = {
    "empty.cnnproj": b"",
    "truncated.cnnproj": b'{"format": "cnnstudio-project", "version": 1, "network": {"nodes": [',
    "not-json.cnnproj": b"hello",
    "newer.cnnproj": b'{"format": "cnnstudio-project", "version": 99, "network": {"nodes": [], "edges": []}}',
    "kernel0.cnnproj": json.dumps({"format": "cnnstudio-project", "version": 1, "network": {
        "nodes": [{"id": "n1", "type": "Input"}, {"id": "n2", "type": "Conv2D", "params": {"kernel_size": 0}}],
        "edges": [{"source": "n1", "target": "n2"}]}}).encode(),
    **{f"{name}.cnnproj": content for name, (content, _, _) in HOSTILE_FILES.items()},
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
@pytest.mark.parametrize("command", [["summary"], ["export", "--format", "code", "-o", "out.py"]])
def test_bad_files_exit_2_with_one_line_and_leave_the_file_alone(tmp_path, capsys, monkeypatch, name, command):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / name
    path.write_bytes(BAD_FILES[name])
    code, out, err = run(capsys, command[0], path, *command[1:])
    assert code == 2
    assert err.startswith("cnnstudio: error: ") and err.count("\n") == 1 and str(path) in err
    assert "Traceback" not in err
    assert path.read_bytes() == BAD_FILES[name]
    assert not (tmp_path / "out.py").exists()


@pytest.mark.parametrize("target", ["missing.cnnproj", "."])
def test_missing_file_and_folder_exit_2(capsys, tmp_path, target):
    code, _, err = run(capsys, "summary", tmp_path / target)
    assert code == 2 and err.count("\n") == 1


def test_bad_input_from_a_real_process_has_no_traceback(tmp_path):
    path = tmp_path / "bad.cnnproj"
    path.write_text("{")
    done = subprocess.run([sys.executable, "-m", "cnnstudio", "summary", str(path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and str(path) in done.stderr


def test_export_code_writes_a_module_that_runs_and_refuses_to_overwrite(tmp_path, capsys):
    target = tmp_path / "net.py"
    code, out, _ = run(capsys, "export", LECTURE, "--format", "code", "-o", target)
    assert code == 0 and target.exists()
    done = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "(2, 10)" in done.stdout and "93,322" in done.stdout
    before = target.read_bytes()
    code, _, err = run(capsys, "export", LECTURE, "--format", "code", "-o", target)
    assert code == 2 and "--force" in err and target.read_bytes() == before
    code, _, _ = run(capsys, "export", LECTURE, "--format", "code", "-o", target, "--force")
    assert code == 0


def test_export_of_a_broken_network_names_the_problem(tmp_path, capsys):
    network = sequential([("Input", {"shape": [1, 2, 2]}), ("Conv2D", {"filters": 2}, "conv3")])
    path = tmp_path / "broken.cnnproj"
    save_project(Project(network), path)
    code, _, err = run(capsys, "export", path, "--format", "code", "-o", tmp_path / "x.py")
    assert code == 2 and "conv3: its 3x3 kernel does not fit the 2x2 input" in err


def test_export_with_a_bad_class_name_is_a_user_error(tmp_path, capsys):
    code, _, err = run(capsys, "export", LECTURE, "--format", "code", "-o", tmp_path / "x.py",
                       "--class-name", "not a name")
    assert code == 2 and "class" in err


def test_schema_command_prints_the_shipped_schema(capsys):
    code, out, _ = run(capsys, "schema")
    assert code == 0
    shipped = json.loads((ROOT / "resources" / "schema" / SCHEMA_FILE_NAME).read_text())
    assert json.loads(out) == shipped


@pytest.mark.parametrize("project", sorted((ROOT / "projects").glob("*.cnnproj")), ids=lambda p: p.stem)
def test_every_example_project_summarises_cleanly(project, capsys):
    code, out, _ = run(capsys, "summary", project, "--json")
    data = json.loads(out)
    assert code == 0 and data["diagnostics"] == []


def test_export_with_trained_weights_to_every_format(tmp_path, capsys):
    import torch

    from cnnstudio.core.build import build_model
    from cnnstudio.core.project import load_project
    network = load_project(LECTURE).network
    model = build_model(network)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    x = torch.rand(3, 1, 28, 28)
    expected = model.eval()(x)
    for fmt, name in (("torchscript", "m.pt"), ("state_dict", "s.pt"), ("safetensors", "m.safetensors"),
                      ("onnx", "m.onnx"), ("train-script", "train.py")):
        code, out, err = run(capsys, "export", LECTURE, "--format", fmt, "--weights", weights, "-o", tmp_path / name)
        assert code == 0, err
        assert (tmp_path / name).exists()
    scripted = torch.jit.load(str(tmp_path / "m.pt"))
    assert torch.allclose(scripted(x), expected, atol=1e-5)


def test_export_refuses_weights_of_another_network(tmp_path, capsys):
    import torch
    weights = tmp_path / "other.pt"
    torch.save({"conv2d_1.weight": torch.zeros(3, 1, 3, 3)}, weights)
    code, _, err = run(capsys, "export", LECTURE, "--format", "onnx", "--weights", weights, "-o", tmp_path / "m.onnx")
    assert code == 2 and "conv2d_1.weight" in err and "Traceback" not in err


def small_mnist_project(tmp_path):
    network = sequential([("Input", {"shape": [1, 28, 28]}),
                          ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "activation": "relu"}),
                          ("Flatten", {}), ("Dense", {"units": 10, "activation": "softmax"})])
    path = tmp_path / "small.cnnproj"
    save_project(Project(network, name="small", dataset={"name": "mnist", "num_classes": 10},
                         training={"epochs": 1, "seed": 0, "validation_split": 0.2}), path)
    return path


def test_train_command_writes_log_checkpoints_and_weights(tmp_path, capsys):
    project = small_mnist_project(tmp_path)
    before = project.read_bytes()
    code, out, err = run(capsys, "train", project, "--subset", 200, "--batch-size", 32, "--out", tmp_path / "run")
    assert code == 0, err
    assert out.count("Test: loss") == 1 and out.count("weights.safetensors") == 1
    assert (tmp_path / "run" / "log.csv").exists() and list((tmp_path / "run" / "checkpoints").glob("*.pt"))
    assert project.read_bytes() == before


def test_a_failing_run_exits_1_and_keeps_earlier_checkpoints(tmp_path, capsys, monkeypatch):
    project = small_mnist_project(tmp_path)
    out_dir = tmp_path / "run"
    assert run(capsys, "train", project, "--subset", 200, "--out", out_dir)[0] == 0
    kept = {p: p.read_bytes() for p in out_dir.rglob("*") if p.is_file()}
    import torch

    def nan_loss(self, logits, labels):
        return (logits * float("nan")).sum()

    monkeypatch.setattr(torch.nn.CrossEntropyLoss, "forward", nan_loss)
    code, _, err = run(capsys, "train", project, "--subset", 200, "--out", out_dir, "--restart")
    assert code == 1 and "the loss became nan" in err and "Traceback" not in err
    for path, data in kept.items():
        if path.suffix in (".pt", ".safetensors"):  # the record and log tell of the failed run; weights stay
            assert path.read_bytes() == data, path
    assert json.loads((out_dir / "run.json").read_text())["status"] == "failed"


def test_train_with_a_dataset_that_does_not_fit_is_a_user_error(tmp_path, capsys):
    network = sequential([("Input", {"shape": [3, 32, 32]}), ("Flatten", {}), ("Dense", {"units": 10})])
    path = tmp_path / "colour.cnnproj"
    save_project(Project(network, dataset={"name": "mnist", "num_classes": 10}), path)
    code, _, err = run(capsys, "train", path, "--subset", 50, "--out", tmp_path / "o")
    assert code == 2 and "input_1" in err and "[1, 28, 28]" in err


def press_ctrl_c_at_batch_2(monkeypatch) -> None:
    """Make training press Ctrl+C (a real SIGINT) after its second batch, until ``monkeypatch.undo()``."""
    import signal
    from cnnstudio.training import callback_settings
    from cnnstudio.training.callbacks import LambdaCallback
    real = callback_settings.make_callbacks

    def ctrl_c_at_batch_2(*args, **kwargs):
        def press(batch, logs):
            if batch == 1:
                signal.raise_signal(signal.SIGINT)
        return [*real(*args, **kwargs), LambdaCallback(on_train_batch_end=press)]

    monkeypatch.setattr(callback_settings, "make_callbacks", ctrl_c_at_batch_2)


def test_train_without_out_keeps_the_run_beside_the_project_and_resumes_it(tmp_path, capsys, monkeypatch):
    project = small_mnist_project(tmp_path)
    press_ctrl_c_at_batch_2(monkeypatch)
    code, out, err = run(capsys, "train", project, "--subset", 400, "--batch-size", 32, "--epochs", 2)
    monkeypatch.undo()
    assert code == 130 and "Stopping after this batch" in out
    assert err.count("--resume") == 1  # the advice is given once
    (folder,) = (tmp_path / "small.runs").iterdir()
    code, out, err = run(capsys, "train", project, "--resume")
    assert code == 0, err
    assert "Carrying on" in out and str(folder) in out
    assert json.loads((folder / "run.json").read_text())["status"] == "finished"


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_a_bad_learning_rate_is_bad_input_naming_the_flag(tmp_path, capsys, value):
    code, _, err = run(capsys, "train", small_mnist_project(tmp_path), "--lr", value)
    assert code == 2 and err.startswith("cnnstudio: error: --lr: must be") and err.count("\n") == 1


def test_a_bad_training_value_in_the_file_is_bad_input_naming_the_file(tmp_path, capsys):
    path = tmp_path / "bad.cnnproj"
    save_project(Project(sequential([("Input", {"shape": [1, 28, 28]}), ("Flatten", {}), ("Dense", {"units": 10})]),
                         dataset={"name": "mnist"}, training={"learning_rate": -1}), path)
    code, _, err = run(capsys, "train", path)
    assert code == 2 and "bad.cnnproj: training.learning_rate must be > 0" in err and err.count("\n") == 1


def test_a_network_too_big_for_memory_is_refused_before_it_is_built(tmp_path, capsys):
    path = tmp_path / "huge.cnnproj"
    huge = sequential([("Input", {"shape": [1, 28, 28]}), ("Flatten", {}),
                       ("Dense", {"units": 100_000, "activation": "relu"}),
                       ("Dense", {"units": 100_000, "activation": "relu"}),  # 10 billion weights
                       ("Dense", {"units": 10, "activation": "softmax"})])
    save_project(Project(huge, dataset={"name": "mnist", "subset": 100}), path)
    code, out, err = run(capsys, "train", path)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "training needs about" in err and "free" in err and "batch" in err
    (folder,) = (tmp_path / "huge.runs").iterdir()
    assert json.loads((folder / "run.json").read_text())["status"] == "failed"
