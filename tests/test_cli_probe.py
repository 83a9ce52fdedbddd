"""`cnnstudio summary PROJECT --probe [--weights FILE]`: each layer's activation statistics for one
real sample, the same numbers the editor's live previews show."""

from __future__ import annotations

import json

import pytest

from cnnstudio.core.project import load_project, save_project
from cnnstudio.lab.preview import preview_network
from cnnstudio.lab.preview_sample import dataset_sample
from test_cli import LECTURE, run


def expected_stats(weights=None, index=0, project=LECTURE):
    loaded = load_project(project)
    preview = preview_network(loaded.network, dataset_sample(loaded.dataset, index).image, weights)
    return {name: layer.stats for name, layer in preview.layers.items()}


def test_probe_adds_activation_columns_to_the_table(capsys):
    code, out, _ = run(capsys, "summary", LECTURE, "--probe")
    assert code == 0
    header = out.splitlines()[0]
    assert header.split()[-5:] == ["Mean", "Std", "Zeros", "Min", "Max"]
    stats = expected_stats()["conv2d_1"]
    row = next(line for line in out.splitlines() if line.startswith("conv2d_1 (Conv2D)"))
    assert row.split()[-5:] == [f"{stats.mean:.4g}", f"{stats.std:.4g}", f"{stats.zero_share:.1%}",
                                f"{stats.minimum:.4g}", f"{stats.maximum:.4g}"]
    assert "Activations of mnist test #0: 7, weights random (seed 0)" in out
    assert "Total params: 93,322" in out


def test_probe_json_gives_each_layer_its_statistics(capsys):
    code, out, _ = run(capsys, "summary", LECTURE, "--probe", "--json", "--sample", "5")
    assert code == 0
    data = json.loads(out)
    expected = expected_stats(index=5)
    assert [layer["name"] for layer in data["layers"]] == list(expected)
    for layer in data["layers"]:
        assert layer["activations"] == pytest.approx(expected[layer["name"]].to_json())
    assert data["probe"]["sample"].startswith("mnist test #5: ") and data["probe"]["reason"] == ""


def test_probe_with_trained_weights_uses_them(tmp_path, capsys):
    import torch

    from cnnstudio.core.build import build_model
    torch.manual_seed(42)
    model = build_model(load_project(LECTURE).network)
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)

    code, out, _ = run(capsys, "summary", LECTURE, "--json", "--weights", weights)  # --weights implies --probe
    assert code == 0
    data = json.loads(out)
    expected = expected_stats(weights)
    assert data["probe"]["weights"] == f"trained ({weights})"
    for layer in data["layers"]:
        assert layer["activations"] == pytest.approx(expected[layer["name"]].to_json())
    assert data["layers"][-1]["activations"] != pytest.approx(expected_stats()["dense_2"].to_json())


def test_probe_refuses_weights_of_another_network(tmp_path, capsys):
    import torch
    weights = tmp_path / "other.pt"
    torch.save({"conv2d_1.weight": torch.zeros(3, 1, 3, 3)}, weights)
    code, _, err = run(capsys, "summary", LECTURE, "--probe", "--weights", weights)
    assert code == 2 and "conv2d_1.weight" in err and "Traceback" not in err


def test_probe_of_a_broken_network_says_why_and_still_summarises(tmp_path, capsys):
    project = load_project(LECTURE)
    project.network.set_params(project.network.node_by_name("conv2d_3").id, {"kernel_size": [9, 9]})
    path = tmp_path / "broken.cnnproj"
    save_project(project, path)

    code, out, _ = run(capsys, "summary", path, "--probe")
    assert code == 0
    assert "Activations of mnist test #0: 7, weights random (seed 0): no preview: conv2d_3" in out
    assert "Mean" not in out.splitlines()[0]
    code, out, _ = run(capsys, "summary", path, "--probe", "--json")
    data = json.loads(out)
    assert data["probe"]["reason"].startswith("no preview: conv2d_3")
    assert all(layer["activations"] is None for layer in data["layers"])


def test_probe_does_not_mix_with_the_keras_style(capsys):
    code, _, err = run(capsys, "summary", LECTURE, "--probe", "--style", "keras")
    assert code == 2 and "--probe" in err
