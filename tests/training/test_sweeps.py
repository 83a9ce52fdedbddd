"""Sweeps end to end: small studies on a few hundred MNIST samples, one epoch, one thread."""

from __future__ import annotations

import io
import math

import optuna

from cnnstudio.cli import main
from cnnstudio.core.network import sequential
from cnnstudio.core.project import Project, load_project, save_project
from cnnstudio.training.run_folder import FAILED, FINISHED, STOPPED, list_runs, read_record, runs_dir
from cnnstudio.training.sweeps.command import prepare_sweep
from cnnstudio.training.sweeps.study import default_storage, read_trials
from cnnstudio.training.sweeps.table import front_numbers

SMALL_NET = [("Input", {"shape": [1, 28, 28]}),
             ("Conv2D", {"filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "activation": "relu"}),
             ("MaxPool2D", {"kernel_size": [2, 2]}),
             ("Flatten", {}),
             ("Dense", {"units": 10, "activation": "softmax"})]


def write_project(folder, experiments=None, epochs=1):
    path = folder / "small.cnnproj"
    save_project(Project(sequential(SMALL_NET), name="small",
                         dataset={"name": "mnist", "num_classes": 10, "subset": 300},
                         training={"seed": 1, "epochs": epochs, "threads": 1}, experiments=experiments), path)
    return path


def sweep(project, *args):
    return main(["sweep", str(project), "--quiet", *args])


def study_trials(project, name="sweep"):
    return optuna.load_study(study_name=name, storage=default_storage(project)).get_trials()


def test_a_small_sweep_runs_from_the_cli_keeps_its_study_and_resumes(tmp_path, capsys):
    project = write_project(tmp_path)
    original = project.read_bytes()
    space = ["--param", "lr=1e-3..1e-1:log", "--param", "conv2d_1.filters=2..8", "--param", "batch_size=32,64"]
    assert sweep(project, "--trials", "4", "--seed", "0", *space) == 0
    out = capsys.readouterr().out

    assert (tmp_path / "small.sweeps.db").is_file()  # the study, beside the project
    trials = study_trials(project)
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 4
    records = {record.sweep["trial"]: record for record in list_runs(runs_dir(project))}
    assert sorted(records) == [0, 1, 2, 3]  # one run folder per trial
    for trial in trials:
        record = records[trial.number]
        assert record.kind == "trial" and record.status == FINISHED and record.sweep["study"] == "sweep"
        assert record.sweep["values"] == trial.params
        training = record.settings["training"]
        assert training["learning_rate"] == trial.params["learning_rate"]
        assert training["batch_size"] == trial.params["batch_size"]
        trained = load_project(record.project_file).network  # the run's copy holds the trial's network
        assert trained.node_by_name("conv2d_1").params["filters"] == trial.params["conv2d_1.filters"]
        assert trial.value == record.history["val_accuracy"][-1]
        assert trial.user_attrs["run"] == str(record.folder)
    assert project.read_bytes() == original  # a sweep never edits the project
    for trial in trials:  # the final table: one line per trial, with its run folder
        assert any(line.split()[:2] == [str(trial.number), "complete"] and records[trial.number].id in line
                   for line in out.splitlines())

    assert sweep(project, "--trials", "6", *space) == 0  # the same command with more trials carries it on
    trials = study_trials(project)
    assert len(trials) == 6 and all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert sorted(record.sweep["trial"] for record in list_runs(runs_dir(project))) == list(range(6))
    assert "4 of 6 trials done" in capsys.readouterr().out

    # Pareto front of accuracy against parameters, MACs and time: exactly the non-dominated trials
    rows = read_trials(default_storage(project), "sweep")
    for cost in ("params", "macs", "seconds"):
        dominated = {row.number for row in rows for other in rows
                     if other.cost(cost) <= row.cost(cost) and other.score >= row.score
                     and (other.cost(cost) < row.cost(cost) or other.score > row.score)}
        assert front_numbers(rows, cost) == {row.number for row in rows} - dominated

    # the same space is needed to carry a study on
    assert sweep(project, "--trials", "8", "--param", "lr=1e-3..1e-1:log") == 2
    assert "was run with another search space" in capsys.readouterr().err


def test_failed_trials_are_recorded_with_their_message_and_the_sweep_goes_on(tmp_path, capsys):
    project = write_project(tmp_path)
    # a grid over 4 trials: a kernel too large for the input makes an invalid network, and
    # SGD at a learning rate of 1e30 turns the loss into NaN
    assert sweep(project, "--trials", "4", "--sampler", "grid", "--name", "bad", "--param", "optimizer=sgd",
                 "--param", "lr=0.01,1e30", "--param", "conv2d_1.kernel_size=3,40") == 0
    rows = {(row.values["learning_rate"], row.values["conv2d_1.kernel_size"]): row
            for row in read_trials(default_storage(project), "bad")}
    assert len(rows) == 4
    for lr in (0.01, 1e30):
        invalid = rows[(lr, 40)]
        assert invalid.state == "failed" and not invalid.run
        assert "the network is invalid: conv2d_1: its 40x40 kernel does not fit the 28x28 input" in invalid.message
    blown_up = rows[(1e30, 3)]
    assert blown_up.state == "failed" and "the loss became" in blown_up.message
    record = read_record(blown_up.run)
    assert record.status == FAILED and record.message == blown_up.message
    good = rows[(0.01, 3)]
    assert good.state == "complete" and math.isfinite(good.score) and read_record(good.run).status == FINISHED
    assert len(list_runs(runs_dir(project))) == 2  # invalid networks never start a run
    out = capsys.readouterr().out
    assert "its 40x40 kernel does not fit" in out and "the loss became" in out


def test_every_trial_failing_is_a_failure_and_bad_input_is_one_line(tmp_path, capsys):
    project = write_project(tmp_path)
    assert sweep(project, "--trials", "1", "--param", "conv2d_1.kernel_size=40") == 1
    assert "every trial of this sweep failed" in capsys.readouterr().err
    for args, message in ((["--param", "conv2d_7.filters=2,4", "--trials", "2"], "no layer named 'conv2d_7'"),
                          (["--param", "lr=0.1"], "give --trials N"),
                          (["--param", "lr", "--trials", "2"], "expected NAME=SPEC"),
                          (["--trials", "2"], "the search space is empty"),
                          (["--param", "lr=0.1", "--trials", "2", "--storage", "nosuch://x"], "--storage")):
        assert sweep(project, *args) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_the_space_can_come_from_the_projects_experiments_object(tmp_path, capsys):
    experiments = {"name": "from-file", "space": {"dense_1.units": "10", "maxpooling2d_1.present": "true,false"},
                   "trials": 2, "sampler": "grid", "objective": "test_accuracy"}
    project = write_project(tmp_path, experiments)
    assert load_project(project).experiments == experiments  # the loader keeps the object
    assert sweep(project) == 0
    rows = read_trials(default_storage(project), "from-file")
    assert sorted(row.values["maxpooling2d_1.present"] for row in rows) == [False, True]
    for row in rows:  # the objective is the run's test accuracy
        assert row.score == read_record(row.run).test["accuracy"]
    without_pool = next(row for row in rows if not row.values["maxpooling2d_1.present"])
    assert load_project(read_record(without_pool.run).project_file).network.node_by_name("maxpooling2d_1") is None


class RecordingEvents:
    """An event writer that keeps the events, and stops the sweep at the first progress report."""

    def __init__(self):
        self.events, self.runner = [], None

    def emit(self, kind, **fields):
        self.events.append((kind, fields))
        if kind == "trial_progress" and self.runner is not None:
            self.runner.request_stop()

    def phase(self, phase, text):
        self.emit("phase", phase=phase, text=text)


def test_stop_ends_the_trial_in_flight_and_it_does_not_count(tmp_path):
    project = write_project(tmp_path, epochs=3)
    events = RecordingEvents()
    runner = prepare_sweep(project, ["lr=1e-3..1e-2:log"], trials=3, events=events)
    events.runner = runner
    result = runner.run()
    assert result.stopped and [row.state for row in result.rows] == ["stopped"]
    record = read_record(result.rows[0].run)
    assert record.status == STOPPED and record.epochs == []  # stopped within the first epoch
    kinds = [kind for kind, _ in events.events]
    assert kinds[0] == "sweep" and "trial_started" in kinds and kinds[-1] == "ended"
    assert events.events[-1][1]["status"] == "stopped"

    again = prepare_sweep(project, ["lr=1e-3..1e-2:log"], trials=1, stream=io.StringIO()).run()
    assert [row.state for row in again.rows] == ["stopped", "complete"]  # the stopped one left the budget free


def test_a_pruned_trial_ends_after_an_epoch_and_its_run_says_so(tmp_path):
    project = write_project(tmp_path, epochs=3)
    runner = prepare_sweep(project, ["lr=1e-3..1e-2:log"], trials=1, objective="val_accuracy")
    runner._pruner = lambda: optuna.pruners.ThresholdPruner(lower=1.5)  # no accuracy reaches 1.5: always prune
    result = runner.run()
    (row,) = result.rows
    assert row.state == "pruned" and row.score is not None
    record = read_record(row.run)
    assert record.epochs == [0] and record.status == STOPPED
    assert record.message.startswith("pruned by sweep 'sweep' after epoch 1 (val_accuracy")
    trial = study_trials(project)[0]
    assert trial.intermediate_values == {0: record.history["val_accuracy"][0]}
