"""The Experiments tab: a sweep defined, run, watched and stopped from the window; its trials
compared, opened as runs and applied to the project as one undoable edit.

Sweeps run in a child process (the CLI's ``sweep``); the tests wait on the view's signals."""

from __future__ import annotations

import optuna
import pytest
from PySide6.QtCore import Qt

from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, save_project
from cnnstudio.training.run_folder import list_runs, runs_dir
from cnnstudio.training.sweeps.study import default_storage

SWEEP_TIMEOUT_MS = 180_000  # a child that imports torch and runs a few tiny trials; CI machines stall

SMALL_NET = [("Input", {"shape": [1, 28, 28]}),
             ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "activation": "relu"}),
             ("MaxPool2D", {"kernel_size": [2, 2]}),
             ("Flatten", {}),
             ("Dense", {"units": 10, "activation": "softmax"})]


@pytest.fixture
def project_file(tmp_path):
    path = tmp_path / "small.cnnproj"
    save_project(Project(sequential(SMALL_NET), name="small",
                         dataset={"name": "mnist", "num_classes": 10, "subset": 300},
                         training={"seed": 1, "epochs": 1, "threads": 1}), path)
    return path


@pytest.fixture
def experiments(make_window, project_file, qtbot):
    """The Experiments tab of a window with the small project open; any sweep left running
    at the end of the test is stopped."""
    window = make_window()
    assert window.open_path(project_file)
    view = window.show_experiments()
    qtbot.waitUntil(lambda: not view.background.tasks)  # the study (none yet) read back
    yield window, view
    if view.process is not None:
        view.shutdown(SWEEP_TIMEOUT_MS)


def run_sweep(qtbot, view, status="finished"):
    with qtbot.waitSignal(view.sweepFinished, timeout=SWEEP_TIMEOUT_MS) as finished:
        qtbot.mouseClick(view.run_button, Qt.MouseButton.LeftButton)
    assert finished.args == [status], view.status.text()
    with qtbot.waitSignal(view.studyLoaded, timeout=30_000):
        pass  # the study read back from its storage


def table_column(view, title):
    model = view.proxy
    column = view.model.headers().index(title)
    return [model.index(row, column).data() for row in range(model.rowCount())]


def test_a_sweep_runs_from_the_window_resumes_and_its_trials_are_runs(experiments, qtbot, project_file, tmp_path):
    window, view = experiments
    editor = view.editor
    editor.owner_box.setCurrentText("conv2d_1")
    editor.field_box.setCurrentIndex(editor.field_box.findData("conv2d_1.filters"))
    qtbot.mouseClick(editor.add_button, Qt.MouseButton.LeftButton)  # a suggested range around 4 filters
    editor.add_field("learning_rate", "1e-3..1e-1:log")
    editor.add_field("optimizer", "adam,sgd")
    assert editor.problems() == []
    editor.trials_box.setValue(4)
    assert window.document.project.experiments["space"] == {"conv2d_1.filters": "2..8",
                                                            "learning_rate": "1e-3..1e-1:log",
                                                            "optimizer": "adam,sgd"}
    run_sweep(qtbot, view)

    assert (tmp_path / "small.sweeps.db").is_file()
    trials = optuna.load_study(study_name="sweep", storage=default_storage(project_file)).get_trials()
    assert len(trials) == 4
    records = list_runs(runs_dir(project_file))
    assert sorted(record.sweep["trial"] for record in records) == [0, 1, 2, 3]
    assert table_column(view, "#") == ["0", "1", "2", "3"]
    assert set(table_column(view, "state")) == {"complete"}
    assert view.progress.value() == 4

    # the Pareto front drawn and bolded is exactly the non-dominated trials (parameters on x)
    rows = view.model.rows
    dominated = {r.number for r in rows for o in rows if o.params <= r.params and o.score >= r.score
                 and (o.params < r.params or o.score > r.score)}
    assert view.cost_plot.front == {r.number for r in rows} - dominated
    assert len(view.cost_plot.front_points.data) == len(view.cost_plot.front)
    assert len(view.cost_plot.points.data) == 4 - len(view.cost_plot.front)

    # sorting and filtering
    view.table.sortByColumn(view.model.headers().index("val_accuracy"), Qt.SortOrder.DescendingOrder)
    scores = [float(text) for text in table_column(view, "val_accuracy")]
    assert scores == sorted(scores, reverse=True)
    view.filter_edit.setText("sgd")
    assert set(table_column(view, "optimizer")) <= {"sgd"}
    assert len(table_column(view, "optimizer")) == sum(1 for r in rows if r.values["optimizer"] == "sgd")
    view.filter_edit.clear()

    # the same study carried on to more trials
    editor.trials_box.setValue(6)
    run_sweep(qtbot, view)
    assert len(view.model.rows) == 6 and len(list_runs(runs_dir(project_file))) == 6

    # opening a trial shows its run in the Train tab
    view.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    view.select_trial(2)
    qtbot.mouseClick(view.open_button, Qt.MouseButton.LeftButton)
    training = window.training_view
    assert window.central_tabs.currentWidget() is training
    chosen = training.runs[training.run_box.currentIndex()]
    assert chosen.sweep["trial"] == 2 and str(chosen.folder) == view.model.rows[2].run

    window.show_experiments()
    view.plot_tabs.setCurrentIndex(1)
    assert len(view.parallel_plot.layout_shown.lines) == 6
    assert window.grab().save(str(tmp_path / "experiments.png"))


def test_applying_a_trial_is_one_undoable_edit(experiments, qtbot):
    window, view = experiments
    document = window.document
    view.editor.add_field("maxpooling2d_1.present", "false")
    view.editor.add_field("conv2d_1.filters", "6")
    view.editor.add_field("optimizer", "sgd")
    view.editor.trials_box.setValue(1)
    run_sweep(qtbot, view)
    before_network, before_training = document.network.to_dict(), dict(document.project.training)
    steps = document.undo_stack.count()

    view.select_trial(0)
    qtbot.mouseClick(view.apply_button, Qt.MouseButton.LeftButton)
    assert document.undo_stack.count() == steps + 1 and document.undo_stack.undoText() == "Apply trial 0"
    network = document.network
    assert network.node_by_name("maxpooling2d_1") is None
    conv, flatten = network.node_by_name("conv2d_1"), network.node_by_name("flatten_1")
    assert conv.params["filters"] == 6 and network.inputs_of(flatten.id) == [conv.id]
    training = document.project.training
    assert training["optimizer"] == "sgd" and training["learning_rate"] is None  # sgd's own default, as trained
    assert document.analysis.total_params == view.model.rows[0].params

    window.undo_action.trigger()
    assert document.network.to_dict() == before_network and document.project.training == before_training


def test_stop_ends_the_sweep_and_editing_the_space_is_undoable(experiments, qtbot):
    window, view = experiments
    document = window.document
    view.editor.add_field("learning_rate", "1e-3..1e-2:log")
    assert document.undo_stack.undoText() == "Change experiments settings"
    view.editor.trials_box.setValue(200)
    with qtbot.waitSignal(view.model.rowsInserted, timeout=SWEEP_TIMEOUT_MS):
        view.start()
    assert not view.run_button.isEnabled() and not view.editor.isEnabled()
    with qtbot.waitSignal(view.sweepFinished, timeout=SWEEP_TIMEOUT_MS) as finished:
        qtbot.mouseClick(view.stop_button, Qt.MouseButton.LeftButton)
    assert finished.args == ["stopped"]
    qtbot.waitUntil(lambda: view.study is not None and len(view.model.rows) < 200)
    assert view.run_button.isEnabled() and view.editor.isEnabled()

    while document.undo_stack.canUndo():
        window.undo_action.trigger()
    assert document.project.experiments is None and view.editor.table.rowCount() == 0
