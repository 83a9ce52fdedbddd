"""The run folder: one format for runs trained anywhere and for imported weights."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from cnnstudio.training.run_folder import (FAILED, FINISHED, IMPORTED, RUNNING, STOPPED, RunFolderError, RunRecord,
                                           end_record, latest_run, list_runs, load_run_weights, move_runs,
                                           new_run_folder, read_record, runs_dir, save_run_weights, start_record,
                                           store_weights_run, write_record)


def test_runs_live_beside_the_project(tmp_path):
    assert runs_dir(tmp_path / "lecture.cnnproj") == tmp_path / "lecture.runs"


def test_new_run_folders_never_collide(tmp_path):
    folders = {new_run_folder(tmp_path) for _ in range(5)}
    assert len(folders) == 5 and all(folder.is_dir() and folder.parent == tmp_path for folder in folders)


def test_a_record_round_trips_and_says_which_metric_it_shows(tmp_path):
    record = RunRecord(new_run_folder(tmp_path), label="run 1", settings={"optimizer": "rmsprop"},
                       history={"loss": [0.9, 0.4], "accuracy": [0.7, 0.8393], "val_accuracy": [0.7, 0.7367]},
                       epochs=[0, 1], classes=list("0123456789"))
    start_record(record)
    end_record(record, FINISHED)
    again = read_record(record.folder)
    assert again.status == FINISHED and again.ended is not None
    assert again.history == record.history and again.epochs == [0, 1] and again.settings == {"optimizer": "rmsprop"}
    assert again.result_text() == "accuracy 0.8393, val_accuracy 0.7367"
    assert again.summary() == "run 1 (finished: accuracy 0.8393, val_accuracy 0.7367)"


def test_a_run_without_metrics_says_none(tmp_path):
    record = end_record(RunRecord(new_run_folder(tmp_path), label="run 2"), STOPPED)
    assert read_record(record.folder).summary() == "run 2 (stopped)"


def test_a_running_record_of_a_dead_process_reads_as_failed(tmp_path):
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    record = start_record(RunRecord(new_run_folder(tmp_path)))
    assert read_record(record.folder).status == RUNNING  # this process is alive
    data = json.loads((record.folder / "run.json").read_text())
    data["pid"] = int(child.stdout)  # a process that has exited
    (record.folder / "run.json").write_text(json.dumps(data))
    dead = read_record(record.folder)
    assert dead.status == FAILED and "killed" in dead.message


def test_listing_skips_damaged_and_foreign_folders(tmp_path):
    good = end_record(RunRecord(new_run_folder(tmp_path), label="a"), FINISHED)
    (tmp_path / "not-a-run").mkdir()
    broken = new_run_folder(tmp_path)
    (broken / "run.json").write_text("{ not json")
    wrong = new_run_folder(tmp_path)
    (wrong / "run.json").write_text(json.dumps({"format": "something-else"}))
    assert [run.folder for run in list_runs(tmp_path)] == [good.folder]
    with pytest.raises(RunFolderError, match="cannot be read"):
        read_record(broken)
    with pytest.raises(RunFolderError, match="not a CNN Studio run"):
        read_record(wrong)
    assert list_runs(tmp_path / "missing") == []


def test_a_newer_record_is_refused(tmp_path):
    record = write_record(RunRecord(new_run_folder(tmp_path)))
    data = json.loads(record.read_text())
    data["version"] = 99
    record.write_text(json.dumps(data))
    with pytest.raises(RunFolderError, match="newer"):
        read_record(record.parent)


def test_latest_resumable_run_needs_a_backup(tmp_path):
    first = end_record(RunRecord(new_run_folder(tmp_path), created=1.0), STOPPED)
    (first.folder / "backup").mkdir()
    end_record(RunRecord(new_run_folder(tmp_path), created=2.0), STOPPED)  # stopped, but no backup
    assert latest_run(tmp_path).created == 2.0
    assert latest_run(tmp_path, resumable=True).folder == first.folder


def test_weights_are_saved_in_both_formats_and_read_back(tmp_path):
    state = {"conv.weight": torch.randn(4, 1, 3, 3), "conv.bias": torch.randn(4)}
    record = end_record(RunRecord(new_run_folder(tmp_path)), FINISHED)
    safetensors_file, pt_file = save_run_weights(state, record.folder)
    loaded = load_run_weights(record)
    assert all(torch.equal(loaded[key], state[key]) for key in state)
    from_pt = torch.load(pt_file, weights_only=True)
    assert all(torch.equal(from_pt[key], state[key]) for key in state)
    assert safetensors_file.is_file()


def test_weights_from_elsewhere_become_an_imported_run(tmp_path):
    state = {"dense.weight": torch.ones(2, 3)}
    record = store_weights_run(tmp_path, '{"format": "cnnstudio-project"}', state, label="model.onnx",
                               source="/somewhere/model.onnx")
    again = read_record(record.folder)
    assert again.status == IMPORTED and again.kind == "import" and again.source == "/somewhere/model.onnx"
    assert again.project_file.read_text() == '{"format": "cnnstudio-project"}'
    assert torch.equal(load_run_weights(again)["dense.weight"], state["dense.weight"])


def test_runs_of_an_untitled_project_move_with_it(tmp_path):
    scratch, target = tmp_path / "scratch", tmp_path / "mine.runs"
    record = end_record(RunRecord(new_run_folder(scratch)), FINISHED)
    moved = move_runs(scratch, target)
    assert moved == [target / record.folder.name]
    assert read_record(moved[0]).status == FINISHED
