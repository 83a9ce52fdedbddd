"""The command line reads like a well-kept tool: a version, help for every option with its
default, exit codes in the help and kept, each thing said once, numbers that read right, and
Ctrl+C ending with 130 at any moment (the last part in a real process, with real signals)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from cnnstudio import __version__
from cnnstudio.cli import build_parser, main
from cnnstudio.console import EXIT_CODES, HelpFormatter
from cnnstudio.core import sequential
from cnnstudio.core.project import Project, save_project
from test_cli import LECTURE, ROOT, press_ctrl_c_at_batch_2, run, small_mnist_project as small_project


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (choices,) = [action.choices for action in build_parser()._actions
                  if isinstance(action, argparse._SubParsersAction)]
    return dict(choices)


# ---------------------------------------------------------------------- version and help

def test_version_from_main_and_from_python_m(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and capsys.readouterr().out.strip() == f"CNN Studio {__version__}"
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "--version"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == f"CNN Studio {__version__}"


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_has_help_that_shows_its_default(name):
    parser = subcommands()[name]
    formatter = HelpFormatter(parser.prog)
    for action in parser._actions:
        if action.help == argparse.SUPPRESS or isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{name} {action.option_strings or action.dest}: no help"
        takes_a_value = action.option_strings and action.nargs != 0 and not action.required
        if takes_a_value:
            shown = formatter._get_help_string(action) % {"default": action.default}
            assert "default" in shown, f"{name} {action.option_strings[0]}: the help does not say its default"


@pytest.mark.parametrize("args", [["--help"], *([name, "--help"] for name in sorted(subcommands()))])
def test_help_lists_the_exit_codes(capsys, args):
    with pytest.raises(SystemExit) as done:
        main(args)
    out = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 0 and EXIT_CODES in out


def test_readme_documents_the_exit_codes_and_the_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert EXIT_CODES.removeprefix("exit codes: ") in " ".join(readme.split())
    assert "cnnstudio-studio" in readme and "cnnstudio --version" in readme


def test_bad_usage_exits_2():
    result = subprocess.run([sys.executable, "-m", "cnnstudio", "train"], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "the following arguments are required: PROJECT" in result.stderr


# ---------------------------------------------------------------------- each thing said once, and right

@pytest.mark.parametrize(("training", "title"), [({"optimizer": "rmsprop"}, "RMSprop"), ({"optimizer": "adam"}, "Adam"),
                                                 ({"optimizer": "sgd", "momentum": 0.9}, "SGD with momentum"),
                                                 (None, "RMSprop")])
def test_summary_counts_the_memory_of_the_projects_optimizer(tmp_path, capsys, training, title):
    path = tmp_path / "net.cnnproj"
    project = Project(sequential([("Input", {"shape": [1, 8, 8]}), ("Flatten", {}), ("Dense", {"units": 10})]),
                      training=training)
    save_project(project, path)
    code, out, _ = run(capsys, "summary", path)
    assert code == 0 and out.count(f"training with {title} ") == 2  # float32 and float16
    code, out, _ = run(capsys, "summary", path, "--json")
    data = json.loads(out)
    weights = data["memory"]["float32"]["weights_bytes"]
    slots = {"RMSprop": 1, "Adam": 2, "SGD with momentum": 1}[title]
    plain_sgd = Project(project.network, training={"optimizer": "sgd"})
    save_project(plain_sgd, tmp_path / "sgd.cnnproj")
    _, sgd_out, _ = run(capsys, "summary", tmp_path / "sgd.cnnproj", "--json")
    sgd_bytes = json.loads(sgd_out)["memory"]["float32"]["training_bytes"]
    assert data["memory"]["float32"]["training_bytes"] - sgd_bytes == slots * weights  # one state slot per weight


@pytest.mark.parametrize(("fmt", "name", "beside"), [("code", "net.py", "net.weights.pt"),
                                                     ("keras", "model.py", "model.weights.h5")])
def test_an_export_that_writes_two_files_names_both(tmp_path, capsys, fmt, name, beside):
    import torch

    from cnnstudio.core import build_model, load_project
    weights = tmp_path / "weights.pt"
    torch.save(build_model(load_project(LECTURE).network).state_dict(), weights)
    code, out, err = run(capsys, "export", LECTURE, "--format", fmt, "--weights", weights, "-o", tmp_path / name)
    assert code == 0, err
    assert out == f"wrote {tmp_path / name} and {tmp_path / beside}\n" and (tmp_path / beside).is_file()


def test_a_short_run_says_each_thing_once_with_numbers_that_read_right(tmp_path, capsys):
    code, out, err = run(capsys, "train", small_project(tmp_path), "--subset", 200, "--batch-size", 32,
                         "--validation-split", 0.2, "--threads", 1)
    assert code == 0, err
    assert "160 training + 40 validation samples, 1 epoch, " in out and "1 thread," in out
    for once in ("Run folder:", "Epoch 1/1", "Test: loss", "Finished in", "weights.safetensors", "weights.pt"):
        assert out.count(once) == 1, (once, out)
    assert "epochs" not in out and "threads" not in out


def test_a_stopped_run_into_a_folder_gives_the_command_that_carries_it_on(tmp_path, capsys, monkeypatch):
    press_ctrl_c_at_batch_2(monkeypatch)
    project, folder = small_project(tmp_path), tmp_path / "my run"
    code, out, err = run(capsys, "train", project, "--subset", 200, "--batch-size", 32, "--out", folder, "--restart")
    assert code == 130 and out.count("Stopped at epoch 1, batch 2") == 1
    assert err == f"Carry on with: cnnstudio train {project} --subset 200 --batch-size 32 --out '{folder}'\n"

    monkeypatch.undo()
    code, out, err = run(capsys, "train", project, "--subset", 200, "--batch-size", 32, "--out", folder)
    assert code == 0 and "Carrying on from the backup" in out, err


# ---------------------------------------------------------------------- Ctrl+C in a real process

def test_ctrl_c_stops_cleanly_and_a_second_one_after_the_stop_still_exits_130(tmp_path):
    project = small_project(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "cnnstudio", "train", str(project), "--subset", "6000",
                                "--batch-size", "8", "--epochs", "3", "--threads", "1"],
                               cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("Epoch 1/3"):
                process.send_signal(signal.SIGINT)  # the first: stop after this batch
            elif line.startswith("Carry on with:"):
                break  # the run has stopped cleanly; the process is ending
        # a second Ctrl+C while the process ends, whatever it is doing then (exit handlers,
        # torch's finalizers): pressed again and again until it is gone
        while process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass
        lines += process.stdout.readlines()
    finally:
        process.kill()
        process.wait()
    output = "".join(lines)
    assert process.returncode == 130, output
    assert "Stopping after this batch" in output and output.count("Carry on with: python -m cnnstudio train ") == 1
    assert "Traceback" not in output and "KeyboardInterrupt" not in output


@pytest.mark.parametrize("flag", ["--learning-rate", "--lr"])
def test_the_learning_rate_has_the_project_files_name_and_the_short_one(tmp_path, capsys, flag):
    code, _, err = run(capsys, "train", small_project(tmp_path), flag, "-1")
    assert code == 2 and err == f"cnnstudio: error: {flag}: must be > 0, not -1\n"
