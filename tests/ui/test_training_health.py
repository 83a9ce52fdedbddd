"""Training-health findings in the window: a run of a deep sigmoid stack, trained from
the Train tab, shows its vanishing gradients in the Problems list, as a mark on the
first layer's block and as a marker on the loss plot; reopening the project brings
them back from the run folder."""

from __future__ import annotations

from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, save_project
from cnnstudio.training.run_folder import read_record
from cnnstudio.ui.canvas.health_marks import HealthMark
from training_helpers import configure, make_training_window, train_and_wait  # noqa: F401 (fixture)


def sigmoid_stack_project(folder):
    layers = [("Input", {"shape": [1, 28, 28]}), ("Flatten", {})]
    layers += [("Dense", {"units": 32, "activation": "sigmoid"}) for _ in range(8)]
    layers.append(("Dense", {"units": 10, "activation": "softmax"}))
    path = folder / "sigmoid_stack.cnnproj"
    save_project(Project(sequential(layers), name="sigmoid stack", dataset={"name": "mnist", "num_classes": 10},
                         training={"threads": 1}), path)
    return path


def marks(window) -> dict[str, HealthMark]:
    return {item.parentItem().name: item for item in window.scene.items() if isinstance(item, HealthMark)}


def test_a_runs_findings_show_in_problems_on_the_block_and_on_the_plot(qtbot, make_training_window, tmp_path):
    window = make_training_window()
    path = sigmoid_stack_project(tmp_path)
    assert window.open_path(path, ask=False)
    view = window.show_training()
    configure(view, subset=200, batch_size=32, epochs=1, optimizer="sgd", learning_rate=0.01)

    assert train_and_wait(qtbot, view) == "finished"
    assert "training-health finding" in view.status.text() and "see Problems" in view.status.text()

    training_rows = window.problems.training_messages()
    assert any("Vanishing gradients: layer dense_1" in row and "Fix:" in row for row in training_rows)
    assert "dense_1" in marks(window) and "Vanishing gradients" in marks(window)["dense_1"].toolTip()
    assert any("vanishing gradients (dense_1)" in text for _, text in view.plots.current.markers)
    kept = read_record(view.run_folder).health
    assert [finding["kind"] for finding in kept] == [finding["kind"] for finding in view.health_findings]

    # clicking the finding selects the block it names
    row = next(r for r in range(window.problems.count()) if "Vanishing" in window.problems.item(r).text())
    window.problems.itemClicked.emit(window.problems.item(row))
    assert window.scene.selected_node_ids() == [window.document.network.node_by_name("dense_1").id]

    # the findings are stored with the run: reopening the project shows them again
    window._show_training_health([])
    assert not marks(window) and not window.problems.training_messages()
    assert window.open_path(path, ask=False)
    view.wait_for_background()
    qtbot.waitUntil(lambda: any("Vanishing" in row for row in window.problems.training_messages()), timeout=10_000)
    assert "dense_1" in marks(window)
