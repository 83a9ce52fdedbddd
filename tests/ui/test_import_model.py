"""File > Import Model: the studio asks (file, module options, permission to run code, where
to save, the input size when open), imports, opens the new project and reports."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from cnnstudio.core.build import build_model
from cnnstudio.training.run_folder import IMPORTED, list_runs, load_run_weights, runs_dir
from cnnstudio.ui.import_model import ModuleOptionsDialog, model_filter

TINY_MODULE = '''
import pathlib
import torch
from torch import nn

pathlib.Path({marker!r}).write_text("this file ran")


class Tiny(nn.Module):
    def __init__(self, classes=3):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.fc = nn.Linear(2 * 4 * 4, classes)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))
'''


def open_size_onnx(path, op="Relu"):
    """A conv then ``op``, with an input whose height and width the file leaves open."""
    rng = np.random.default_rng(0)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], name="conv"),
             helper.make_node(op, ["c"], ["out"], name="last", **({"equation": "nchw->nc"} if op == "Einsum" else {}))]
    graph = helper.make_graph(nodes, "open", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, "H", "W"])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [])],
                              [numpy_helper.from_array(rng.standard_normal((2, 1, 3, 3)).astype(np.float32), "w"),
                               numpy_helper.from_array(rng.standard_normal(2).astype(np.float32), "b")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.save(model, str(path))
    return path


def test_importing_an_onnx_file_opens_it_as_a_saved_project_with_its_weights(make_window, tmp_path):
    source = open_size_onnx(tmp_path / "edge.onnx")
    target = tmp_path / "edge.cnnproj"
    window = make_window(import_from=str(source), save_to=str(target), input_shape=(1, 8, 8))
    assert window.import_model_action.text() == "&Import Model…"
    window.import_model_action.trigger()
    prompter = window.prompter
    assert [question[0] for question in prompter.questions] == ["import_model_path", "save_path", "input_shape"]
    assert "*.onnx" in prompter.questions[0][1] and "*.py" in prompter.questions[0][1]
    assert "input size is not fixed" in prompter.questions[2][1]
    assert prompter.errors == []
    assert window.document.path == target and not window.document.modified
    assert [node.type for node in window.document.network.nodes] == ["Input", "Conv2D"]
    assert window.document.network.nodes[1].params["activation"] == "relu"
    [(title, report)] = prompter.infos
    assert title == "Model imported" and "2 layers" in report and "imported from edge.onnx" in report
    [run] = list_runs(runs_dir(target))
    assert run.status == IMPORTED
    build_model(window.document.network).load_state_dict(load_run_weights(run))
    assert len(window.scene.nodes) == 2  # on the canvas


def test_a_py_file_runs_only_after_the_user_confirms(make_window, tmp_path):
    marker = tmp_path / "ran.txt"
    source = tmp_path / "tiny.py"
    source.write_text(TINY_MODULE.format(marker=str(marker)))
    target = tmp_path / "tiny.cnnproj"
    answers = {"class_name": "Tiny", "input_shape": (1, 6, 6), "class_args": "[4]"}

    window = make_window(import_from=str(source), save_to=str(target), module_options=answers, run_code=False)
    assert not window.import_model()
    assert ("run_code", str(source)) in window.prompter.questions
    assert ("module_options", str(source), ("Tiny",)) in window.prompter.questions
    assert not marker.exists() and not target.exists()

    window.prompter.run_code = True
    assert window.import_model()
    assert marker.read_text() == "this file ran"
    assert window.document.path == target
    dense = next(node for node in window.document.network.nodes if node.type == "Dense")
    assert dense.params["units"] == 4 and dense.name == "fc"


def test_a_refused_model_says_why_and_writes_nothing(make_window, tmp_path):
    source = open_size_onnx(tmp_path / "einsum.onnx", op="Einsum")
    window = make_window(import_from=str(source), save_to=str(tmp_path / "e.cnnproj"), input_shape=(1, 8, 8))
    before = sorted(tmp_path.iterdir())
    assert not window.import_model()
    [(title, text)] = window.prompter.errors
    assert title == "Cannot import model" and "'last' (Einsum) at node 2 of 2" in text
    assert sorted(tmp_path.iterdir()) == before and window.document.path is None


def test_unsaved_work_is_asked_about_before_anything_is_written(lecture_window, tmp_path):
    source = open_size_onnx(tmp_path / "edge.onnx")
    lecture_window.scene.select_nodes([lecture_window.document.network.nodes[-1].id])
    lecture_window.edits.delete_selection()  # an edit: the project now has unsaved changes
    assert lecture_window.document.modified
    prompter = lecture_window.prompter
    prompter.import_from, prompter.save_to, prompter.input_shape = str(source), str(tmp_path / "e.cnnproj"), (1, 8, 8)
    prompter.save_changes = "cancel"
    assert not lecture_window.import_model()
    assert not (tmp_path / "e.cnnproj").exists() and lecture_window.document.modified


def test_the_module_dialog_checks_its_answers_before_anything_runs(qtbot, tmp_path):
    dialog = ModuleOptionsDialog(None, str(tmp_path / "net.py"), ["Net", "Helper"])
    qtbot.addWidget(dialog)
    assert [dialog.class_box.itemText(i) for i in range(dialog.class_box.count())] == ["Net", "Helper"]
    dialog.shape_edit.setText("3,a,32")
    dialog._check_and_accept()
    assert dialog.result() == 0 and "expected sizes such as 1,28,28" in dialog.problem.text()
    dialog.shape_edit.setText("3,32,32")
    dialog.args_edit.setText("{bad json")
    dialog._check_and_accept()
    assert "must be JSON" in dialog.problem.text()
    dialog.args_edit.setText('{"classes": 10}')
    dialog._check_and_accept()
    assert dialog.options() == {"class_name": "Net", "input_shape": (3, 32, 32), "class_args": '{"classes": 10}'}


def test_the_file_filter_lists_every_importer():
    text = model_filter()
    assert text.startswith("Models (") and "ONNX (*.onnx)" in text and "PyTorch module (*.py)" in text
