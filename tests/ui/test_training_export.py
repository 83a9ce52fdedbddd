"""Exporting the trained model from the Train tab: each entry of the Export menu
writes its file off the UI thread, says so, and the file loads back elsewhere
computing what the model trained in the window computes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from cnnstudio.core.build import build_model
from cnnstudio.training.export import code_weights_path
from cnnstudio.ui.training.view import EXPORT_FORMATS
from training_helpers import (RUN_TIMEOUT_MS, configure, make_training_window,  # noqa: F401 (fixtures)
                              open_lecture, train_and_wait)

FILE_NAMES = {"torchscript": "model.pt", "onnx": "model.onnx", "state_dict": "weights.pt",
              "safetensors": "weights.safetensors", "code": "net.py", "keras": "keras_net.py",
              "train-script": "train.py"}


def _menu_action(view, title: str):
    found = [action for action in view.export_button.menu().actions() if action.text() == title]
    assert len(found) == 1, f"the Export menu has no single {title!r} entry"
    return found[0]


def _same_tensors(loaded: dict, expected: dict) -> None:
    assert loaded.keys() == expected.keys()
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


@pytest.mark.parametrize("title, fmt, file_filter", EXPORT_FORMATS, ids=[fmt for _, fmt, _ in EXPORT_FORMATS])
def test_the_trained_model_exports_from_the_window_and_loads_back(qtbot, make_training_window, tmp_path,
                                                                  monkeypatch, title, fmt, file_filter):
    window = make_training_window()
    open_lecture(window)
    view = window.show_training()
    configure(view, subset=96, batch_size=16, epochs=1)
    assert train_and_wait(qtbot, view) == "finished"
    model = view.trained.model
    network = view.trained.network
    target = tmp_path / FILE_NAMES[fmt]
    asked = []

    def save_path(suggested: str, file_filter: str = "", title: str = "") -> str:
        asked.append((suggested, file_filter))
        return str(target)

    monkeypatch.setattr(window.prompter, "save_path", save_path)
    prompter = window.prompter
    _menu_action(view, title).trigger()
    qtbot.waitUntil(lambda: bool(prompter.infos or prompter.errors), timeout=RUN_TIMEOUT_MS)

    assert prompter.errors == []
    assert prompter.infos == [("Exported", f"Wrote {target}")]
    assert target.is_file() and view.last_export == target
    suggested, asked_filter = asked[0]
    assert asked_filter == file_filter and suggested.endswith(file_filter.split("(*")[1].rstrip(")"))

    x = torch.from_numpy(np.ascontiguousarray(view.trained.x[:8])).float()
    with torch.no_grad():
        expected_probabilities = model(x)
        expected_logits = model.logits(x)
    trained = {k: v.detach() for k, v in model.state_dict().items()}

    if fmt == "torchscript":
        loaded = torch.jit.load(str(target))
        with torch.no_grad():
            torch.testing.assert_close(loaded(x), expected_probabilities, atol=1e-5, rtol=1e-5)
            torch.testing.assert_close(loaded.logits(x), expected_logits, atol=1e-5, rtol=1e-5)
    elif fmt == "onnx":
        import onnxruntime
        session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
        (output,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        np.testing.assert_allclose(output, expected_probabilities.numpy(), atol=1e-4)
    elif fmt in ("state_dict", "safetensors"):
        if fmt == "state_dict":
            state = torch.load(target, weights_only=True)
        else:
            from safetensors.torch import load_file
            state = load_file(str(target))
        _same_tensors(state, trained)
        rebuilt = build_model(network)
        rebuilt.load_state_dict(state, strict=True)
        with torch.no_grad():
            torch.testing.assert_close(rebuilt.eval()(x), expected_probabilities)
    elif fmt == "code":
        source = target.read_text("utf-8")
        namespace: dict = {"__name__": "exported_net"}
        exec(compile(source, str(target), "exec"), namespace)
        net = namespace["Net"]()
        weights = code_weights_path(target)
        assert weights.is_file() and weights.name in source
        net.load_state_dict(torch.load(weights, weights_only=True), strict=True)
        with torch.no_grad():
            torch.testing.assert_close(net.eval()(x), expected_probabilities)
    elif fmt == "keras":  # Keras's own predictions are compared in tests/interop; here: the files the menu wrote
        source = target.read_text("utf-8")
        compile(source, str(target), "exec")
        assert 'name="conv2d_1"' in source and (tmp_path / "keras_net.weights.h5").is_file()
    else:
        compile(target.read_text("utf-8"), str(target), "exec")
        assert "class Net" in target.read_text("utf-8")
    assert view.status.text() == f"Exported {target}"
    assert not list(Path(tmp_path).glob("*.tmp*"))  # written atomically, nothing half-done left behind
