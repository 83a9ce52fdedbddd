"""``cnnstudio`` (or ``python -m cnnstudio``): the studio's work without the window.

Exit codes (``console.EXIT_CODES``, also in ``--help``): 0 done, 1 failed, 2 bad input (one
line on stderr, no traceback), 130 interrupted (Ctrl+C).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Sequence

from cnnstudio import __version__
from cnnstudio.console import (BAD_INPUT, EXIT_CODES, FAILED, INTERRUPTED, HelpFormatter, exit_on_late_interrupt,
                               program_name)


class UserError(Exception):
    """Something the user can fix; printed as one line, exit code 2."""


def _load(path: str):
    from cnnstudio.core.project import ProjectError, load_project
    try:
        return load_project(path)
    except ProjectError as error:
        raise UserError(str(error)) from None


def _num_classes(project) -> int | None:
    dataset = project.dataset or {}
    classes = dataset.get("num_classes")
    return classes if isinstance(classes, int) else None


def _check_output(path: str, force: bool) -> Path:
    target = Path(path)
    if target.is_dir():
        raise UserError(f"{target} is a folder; give a file name such as {target / 'model.py'}")
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist")
    if target.exists() and not force:
        raise UserError(f"{target} already exists; pass --force to replace it")
    return target


def cmd_summary(args: argparse.Namespace) -> int:
    from cnnstudio.core.analysis import analyze, training_optimizer
    from cnnstudio.core.summary import format_summary, summary_json
    project = _load(args.project)
    analysis = analyze(project.network, num_classes=_num_classes(project))
    if args.style == "keras":
        if args.probe or args.weights is not None:
            raise UserError("--style keras prints Keras's text table; leave out --probe and --weights")
        return _keras_summary(args, project, analysis)
    optimizer = training_optimizer(project.training)  # the memory of training with the project's optimizer
    probe = _probe(args, project, analysis) if args.probe or args.weights is not None else None
    activations = None
    if probe is not None and probe["layers"] is not None:
        activations = probe["layers"]
    if args.json:
        result = summary_json(project.network, analysis, args.batch_size, optimizer,
                              {} if probe is not None and activations is None else activations)
        if probe is not None:
            result["probe"] = {key: value for key, value in probe.items() if key != "layers"}
        print(json.dumps(result, indent=2))
    else:
        lines: tuple[str, ...] = ()
        if probe is not None:
            lines = (f"Activations of {probe['sample']}, weights {probe['weights']}"
                     + (f": {probe['reason']}" if probe["reason"] else ""),
                     *(f"  {note}" for note in probe["notes"]))
        sys.stdout.write(format_summary(project.network, analysis, args.order, args.batch_size, optimizer,
                                        activations, lines))
    return 0


def _probe(args: argparse.Namespace, project, analysis) -> dict:
    """One sample of the project's dataset through the network: each layer's activation statistics."""
    from cnnstudio.lab.preview import preview_network
    from cnnstudio.lab.preview_sample import project_sample
    from cnnstudio.training.export_weights import WeightsError
    if args.weights is not None and not Path(args.weights).is_file():
        raise UserError(f"{args.weights}: the weights file does not exist")
    sample = project_sample(project.dataset, args.sample, Path(args.project).parent)
    try:
        preview = preview_network(project.network, sample.image, args.weights, analysis=analysis)
    except WeightsError as error:
        raise UserError(str(error)) from None
    layers = {name: layer.stats.to_json() for name, layer in preview.layers.items()} if preview.ok else None
    return {"sample": sample.caption, "weights": preview.weights,
            "reason": preview.reason, "notes": [note for note in (sample.note, *preview.notes) if note],
            "layers": layers}


def _keras_summary(args: argparse.Namespace, project, analysis) -> int:
    from cnnstudio.interop.keras_summary import format_keras_summary
    if args.json:
        raise UserError("--style keras prints Keras's text table; leave out --json")
    try:
        sys.stdout.write(format_keras_summary(project.network, analysis, title=project.name or None))
    except ValueError as error:  # network problems, or a layer Keras cannot express
        raise UserError(f"{args.project}: no Keras summary: {error}") from None
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    project = _load(args.project)
    target = _check_output(args.output, args.force)
    if args.format == "code" and args.weights is None:
        return _export_code(args, project, target)  # needs no torch: instant
    import warnings

    from cnnstudio.training.export import code_weights_path, export_model
    from cnnstudio.training.export_errors import ExportError
    companion = None  # the weights file a code export writes beside its script
    if args.format == "code":
        companion = _check_output(str(code_weights_path(target)), args.force)
    if args.format == "keras" and args.weights is not None:
        from cnnstudio.interop.keras_export import keras_weights_path
        companion = _check_output(str(keras_weights_path(target)), args.force)
    if args.weights is not None and not Path(args.weights).is_file():
        raise UserError(f"{args.weights}: the weights file does not exist")
    with warnings.catch_warnings(record=True) as notes:
        warnings.simplefilter("always")
        try:
            written = export_model(project.network, args.weights, args.format, target,
                                   class_name=args.class_name, title=project.name or None)
        except ExportError as error:
            print(f"cnnstudio: export failed: {error}", file=sys.stderr)
            return FAILED
        except ValueError as error:  # a network with problems, weights that do not fit, a bad name
            raise UserError(f"{args.project}: cannot export: {error}") from None
    for note in notes:
        print(f"note: {note.message}", file=sys.stderr)
    print(f"wrote {written}" + (f" and {companion}" if companion is not None and companion.is_file() else ""))
    return 0


def _export_code(args: argparse.Namespace, project, target: Path) -> int:
    from cnnstudio.core.atomic_file import write_atomic
    from cnnstudio.core.codegen import generate_code
    try:  # BuildError (a ValueError) lists the network's problems; a bad class name is a ValueError too
        source = generate_code(project.network, class_name=args.class_name, title=project.name or None)
    except ValueError as error:
        raise UserError(f"{args.project}: cannot export: {error}") from None
    write_atomic(target, source)
    print(f"wrote {target}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from cnnstudio.core.project import ProjectError
    from cnnstudio.data.dataset import DatasetError
    from cnnstudio.training.errors import DataMismatchError, TrainingError
    from cnnstudio.training.memory_check import NotEnoughMemoryError
    from cnnstudio.training.settings import FLAGS, Override, SettingsError

    given = {"dataset": args.dataset, "subset": args.subset, "validation_split": args.validation_split,
             "epochs": args.epochs, "batch_size": args.batch_size, "optimizer": args.optimizer,
             "learning_rate": args.lr, "device": args.device, "seed": args.seed, "precision": args.precision,
             "threads": args.threads, "deterministic": True if args.deterministic else None,
             "health_checks": False if args.no_health_checks else None}
    flags = {**FLAGS, "learning_rate": _spelled(args.argv, "--lr", FLAGS["learning_rate"])}
    overrides = {name: Override(value, flags[name]) for name, value in given.items() if value is not None}
    try:
        return _train(args, overrides)
    except (ProjectError, SettingsError, DatasetError, DataMismatchError, NotEnoughMemoryError) as error:
        raise UserError(str(error)) from None
    except TrainingError as error:
        print(f"cnnstudio: training failed: {error}", file=sys.stderr)
        return FAILED


def _spelled(argv: Sequence[str], alias: str, name: str) -> str:
    """The spelling of a flag the user typed (``--lr`` or ``--learning-rate``), for messages."""
    return alias if any(word == alias or word.startswith(alias + "=") for word in argv) else name


def _train(args: argparse.Namespace, overrides: dict) -> int:
    from cnnstudio.training.control import ctrl_c_stops, follow_commands
    from cnnstudio.training.session import TrainingSession, plan_run

    spec = plan_run(args.project, overrides, out_dir=args.out, resume=args.resume or False, restart=args.restart,
                    label=args.label or "")
    if args.events:
        from cnnstudio.training.events import EventWriter
        writer = EventWriter(_events_stream())
        spec.probe_layer, spec.probe_index = args.probe_layer, args.probe_index
        session = TrainingSession(spec, stream=sys.stderr, events=writer, progress_bar=False)
        follow_commands(session)
        result = session.run()
        return 0
    session = TrainingSession(spec, stream=sys.stdout)
    with ctrl_c_stops(session, sys.stdout):
        result = session.run()
    if result.interrupted:  # the progress bar said where it stopped
        print(f"Carry on with: {_resume_command(args, result.folder)}", file=sys.stderr)
        return INTERRUPTED
    names = " and ".join(path.name for path in result.weights)
    print(f"Finished in {_duration(result.seconds)}. Weights: {names} in {result.folder}")
    return 0


def _resume_command(args: argparse.Namespace, folder: Path) -> str:
    """The command that carries on a stopped run: ``--resume ID`` for a run kept beside the
    project, the same ``--out DIR`` for a run trained into a folder of the user's choice."""
    from cnnstudio.training.run_folder import runs_dir
    if folder.parent == runs_dir(Path(args.project)).resolve():
        words = ["train", args.project, "--resume", folder.name]  # the run keeps its own settings
    else:  # the backup in DIR carries on when the same settings train into DIR again
        words = [word for word in args.argv if word != "--restart"]
    return " ".join([args.prog_name, shlex.join(words)])


def _events_stream():
    """Standard output for the event stream alone: anything else printed (by a library,
    by native code) goes to standard error instead."""
    import os
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return events


def _duration(seconds: float) -> str:
    from cnnstudio.training.progress import format_duration
    return format_duration(seconds)


def cmd_sweep(args: argparse.Namespace) -> int:
    from cnnstudio.core.project import ProjectError
    from cnnstudio.training.settings import SettingsError
    from cnnstudio.training.sweeps.command import prepare_sweep
    from cnnstudio.training.sweeps.study import StudyError
    from cnnstudio.training.sweeps.table import format_trials

    options = {"trials": args.trials, "timeout": args.timeout, "name": args.name, "objective": args.objective,
               "direction": args.direction, "sampler": args.sampler, "pruner": args.pruner, "seed": args.seed}
    events = None
    if args.events:
        from cnnstudio.training.events import EventWriter
        events = EventWriter(_events_stream())
    stream = sys.stderr if args.events else sys.stdout
    try:
        runner = prepare_sweep(args.project, args.param or (), snapshot=args.snapshot, storage=args.storage,
                               stream=stream, events=events, quiet=args.quiet or args.events, **options)
        if args.events:
            from cnnstudio.training.control import follow_commands
            follow_commands(runner)
            result = runner.run()
        else:
            from cnnstudio.training.control import ctrl_c_stops
            with ctrl_c_stops(runner, sys.stdout):
                result = runner.run()
    except (ProjectError, SettingsError) as error:  # a SpaceError is a SettingsError
        raise UserError(str(error)) from None
    except StudyError as error:
        print(f"cnnstudio: sweep failed: {error}", file=sys.stderr)
        return 1
    experiment = runner.experiment
    stream.write("\n" + format_trials(result.rows, experiment.space.names, experiment.objective.metric,
                                      maximize=experiment.objective.maximize))
    if result.stopped:
        print(f"Stopped. Carry the study on with the same command (study {experiment.name!r}).", file=sys.stderr)
        return 130
    if result.all_failed:
        print("cnnstudio: every trial of this sweep failed; see the messages above", file=sys.stderr)
        return 1
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from cnnstudio.interop.model_import import ModelImportError, import_model, save_imported
    options = {key: value for key, value in (("input_shape", args.input_shape), ("class_name", args.class_name),
                                             ("class_args", args.class_args), ("weights", args.weights))
               if value is not None}
    try:
        imported = import_model(args.model, **options)
        project_file, _run = save_imported(imported, args.output, force=args.force)
    except ModelImportError as error:
        raise UserError(str(error)) from None
    print(imported.report())
    print(f"wrote {project_file} (weights kept in {_run.folder})")
    return 0


def cmd_templates(args: argparse.Namespace) -> int:
    import textwrap

    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.summary import human_count
    from cnnstudio.core.templates import TEMPLATES
    for key, template in TEMPLATES.items():
        analysis = analyze(template.network())
        shape = "x".join(str(d) for d in template.default_input)
        print(f"{key:<14} {template.title:<22} {shape:>9}, {template.default_classes:>4} classes  "
              f"{analysis.total_params:>12,} params  {human_count(analysis.macs):>7} MACs")
        print(textwrap.fill(template.description, 100, initial_indent=" " * 4, subsequent_indent=" " * 4))
    return 0


def cmd_new(args: argparse.Namespace) -> int:
    from cnnstudio.core.analysis import analyze
    from cnnstudio.core.project import ProjectError, save_project
    from cnnstudio.core.templates import TemplateError, get_template
    target = _check_output(args.output, args.force)
    try:
        project = get_template(args.template).project(args.input, args.classes)
    except TemplateError as error:
        raise UserError(str(error)) from None
    try:
        save_project(project, target)
    except ProjectError as error:
        print(f"cnnstudio: {error}", file=sys.stderr)
        return 1
    analysis = analyze(project.network)
    shape = "x".join(str(d) for d in analysis.input_shape)
    print(f"wrote {target} ({project.name}, input {shape}, {analysis.output_shape[0]} classes, "
          f"{analysis.total_params:,} params)")
    return 0


def _shape(text: str) -> tuple[int, ...]:
    from cnnstudio.interop.model_import import ModelImportError, parse_input_shape
    try:
        return parse_input_shape(text)
    except ModelImportError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def cmd_schema(args: argparse.Namespace) -> int:
    from cnnstudio.core.project_schema import json_schema, write_schema
    if args.output:
        write_schema(args.output)
    else:
        print(json.dumps(json_schema(), indent=2))
    return 0


def cmd_screenshot(args: argparse.Namespace) -> int:
    if args.project:
        _load(args.project)  # a bad project is a user error, reported before any window opens
    target = Path(args.output)
    if not target.parent.is_dir():
        raise UserError(f"cannot write {target}: the folder {target.parent} does not exist")
    from cnnstudio.ui.screenshot import render_window
    try:
        render_window(args.project, str(target), args.size, select=args.select, view=args.view,
                      train_steps=args.train_steps)
    except ValueError as error:
        raise UserError(str(error)) from None
    print(f"wrote {target}")
    return 0


def _size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT such as 1600x1000, got {text!r}") from None
    if not (320 <= width <= 8000 and 240 <= height <= 8000):
        raise argparse.ArgumentTypeError(f"{width}x{height} is outside 320x240 .. 8000x8000")
    return width, height


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=program_name(), formatter_class=HelpFormatter,
                                     description="CNN Studio from the command line: summarise, train, export and "
                                                 "import networks. `COMMAND --help` tells more about each.",
                                     epilog=EXIT_CODES)
    parser.add_argument("--version", action="version", version=f"CNN Studio {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, **options) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=help_text, description=options.pop("description", help_text),
                                   epilog=EXIT_CODES, formatter_class=HelpFormatter, **options)

    summary = command("summary", "print the layer table, totals and receptive field")
    summary.add_argument("project", metavar="PROJECT", help="a .cnnproj file")
    summary.add_argument("--json", action="store_true", help="machine-readable output (PyTorch shape order)")
    summary.add_argument("--order", choices=("torch", "keras"), default="torch",
                         help="shape order: torch (C, H, W) or keras (H, W, C)")
    summary.add_argument("--batch-size", type=_positive, default=1, metavar="N",
                         help="batch size for the memory figures (training counts the project's optimizer)")
    summary.add_argument("--style", choices=("studio", "keras"), default="studio",
                         help="keras: the table exactly as Keras's model.summary() prints the Keras export")
    summary.add_argument("--probe", action="store_true",
                         help="run one sample of the project's dataset (default: the built-in MNIST) through "
                              "the network and add each layer's activation mean, std, share of zeros, min and max")
    summary.add_argument("--weights", metavar="FILE",
                         help="with --probe (implied): trained weights (.pt state_dict or .safetensors) "
                              "(default: random weights from seed 0)")
    summary.add_argument("--sample", type=int, default=0, metavar="N",
                         help="with --probe: which sample of the dataset's test split (default: 0)")
    summary.set_defaults(run=cmd_summary)

    export = command("export", "write the network in another format")
    export.add_argument("project", metavar="PROJECT", help="a .cnnproj file")
    export.add_argument("--format", required=True,
                        choices=("code", "torchscript", "onnx", "state_dict", "safetensors", "train-script", "keras"),
                        help="code: a standalone PyTorch module (with --weights, a .weights.pt beside it); "
                             "torchscript/onnx/state_dict/safetensors: the model with --weights; train-script: a "
                             "plain PyTorch training script (torchrun-ready); keras: a Keras 3 script (with "
                             "--weights, a .weights.h5 beside it)")
    export.add_argument("--weights", metavar="FILE",
                        help="trained weights (.pt state_dict or .safetensors), such as a run's weights.pt "
                             "(default: none, freshly initialised weights)")
    export.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write")
    export.add_argument("--class-name", default="Net", metavar="NAME", help="name of the generated class")
    export.add_argument("--force", action="store_true", help="replace FILE (and the weights beside it) if it exists")
    export.set_defaults(run=cmd_export)

    train = command(
        "train", "train a project's network (progress bar, CSV log, checkpoints, a run folder)",
        description="Train PROJECT's network with the settings stored in the project (the studio's Train tab); "
                    "each option overrides one of them for this run. The run is kept in PROJECT.runs/<run id>/ "
                    "(settings used, log.csv, weights, checkpoints), where the studio lists it too. The first "
                    "Ctrl+C stops after the current batch and keeps a backup to carry on from; a second one "
                    "stops at once.")
    train.add_argument("project", metavar="PROJECT", help="a .cnnproj file")
    train.add_argument("--dataset", metavar="NAME|PATH",
                       help="mnist (built in), or a folder/file: IDX files, CIFAR-10 batches, class folders, .npz "
                            "(default: the project's)")
    train.add_argument("--subset", type=_positive, metavar="N",
                       help="train on a class-balanced part of N samples (default: the project's, else all)")
    train.add_argument("--validation-split", type=float, metavar="X",
                       help="share of the samples held out for validation (default: the project's, else 0.1)")
    train.add_argument("--epochs", type=_positive, metavar="N", help="epochs to train (default: the project's, else 5)")
    train.add_argument("--batch-size", type=_positive, metavar="N",
                       help="samples per batch (default: the project's, else 64)")
    train.add_argument("--optimizer", choices=("sgd", "adam", "adamw", "rmsprop"),
                       help="the optimizer (default: the project's, else rmsprop as in the lecture)")
    train.add_argument("--learning-rate", "--lr", dest="lr", type=float, metavar="X",
                       help="learning rate (default: the project's, else the optimizer's Keras default)")
    train.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"),
                       help="where to train (default: the project's, else auto: CUDA, then MPS, then CPU)")
    train.add_argument("--precision", choices=("float32", "float16", "bfloat16"),
                       help="float16/bfloat16 run the forward pass in mixed precision (default: the project's, "
                            "else float32)")
    train.add_argument("--seed", type=int, metavar="N",
                       help="seed for weights, shuffling and the data split (default: the project's, else "
                            "random and recorded in the run)")
    train.add_argument("--deterministic", action="store_true",
                       help="deterministic kernels: the same seed gives the same weights")
    train.add_argument("--threads", metavar="auto|N",
                       help="CPU threads: auto measures and follows the fastest (default: the project's, else auto)")
    train.add_argument("--no-health-checks", action="store_true",
                       help="skip the training-health checks (dead ReLUs, vanishing gradients, a learning rate too "
                            "high, over-fitting...; default: the project's, else on)")
    train.add_argument("--out", metavar="DIR",
                       help="train into this folder, carrying on from a backup there (default: a new folder in "
                            "PROJECT.runs/)")
    train.add_argument("--resume", nargs="?", const=True, metavar="RUN",
                       help="carry on the project's newest stopped run, or the run named RUN, with its settings "
                            "(default: start a new run)")
    train.add_argument("--restart", action="store_true", help="with --out: ignore a backup there and start afresh")
    train.add_argument("--label", metavar="TEXT", help="a name for the run in the studio's list (default: its id)")
    train.add_argument("--events", action="store_true",
                       help="write progress as JSON lines on standard output and read stop/pause/resume "
                            "commands on standard input (how the studio runs training)")
    train.add_argument("--probe-layer", metavar="LAYER", help=argparse.SUPPRESS)
    train.add_argument("--probe-index", type=int, default=0, help=argparse.SUPPRESS)
    train.set_defaults(run=cmd_train)

    sweep = command(
        "sweep", "search training settings and layer parameters with Optuna; every trial is a run",
        description="Run trials of PROJECT with values drawn from a search space (--param, or the project's "
                    "experiments object), each a normal run in PROJECT.runs/, and keep the study in "
                    "PROJECT.sweeps.db beside it (or --storage). The same command carries a study on.")
    sweep.add_argument("project", metavar="PROJECT", help="a .cnnproj file")
    sweep.add_argument("--trials", type=_positive, metavar="N",
                       help="how many trials the study should hold; a resumed study runs the rest "
                            "(default: the project's experiments, else 10)")
    sweep.add_argument("--timeout", type=float, metavar="S", help="start no trial after S seconds (default: no limit)")
    sweep.add_argument("--param", action="append", metavar="NAME=SPEC",
                       help="a swept setting: lr=1e-4..1e-1:log, batch_size=32,64,128, optimizer=adam,sgd, "
                            "conv2d_1.filters=8..64:step=8, dense_1.units=32,64, dropout_1.rate=0..0.5, "
                            "maxpooling2d_1.present=true,false (repeat; replaces the project's space; "
                            "default: the project's experiments space)")
    sweep.add_argument("--name", metavar="STUDY", help="the study's name (default: the project's, else 'sweep')")
    sweep.add_argument("--storage", metavar="URL",
                       help="where the study lives: a file path or sqlite:///PATH, or a database URL shared by "
                            "several machines (default: PROJECT.sweeps.db)")
    # the choices of these four are checked (and listed in the message) by the sweep's own settings
    sweep.add_argument("--objective", metavar="METRIC",
                       help="the metric to optimise: val_accuracy (default), accuracy, val_loss, loss, test_accuracy "
                            "or test_loss")
    sweep.add_argument("--direction", metavar="maximize|minimize",
                       help="default: maximize accuracies, minimize losses")
    sweep.add_argument("--sampler", metavar="tpe|random|grid", help="how values are drawn (default tpe)")
    sweep.add_argument("--pruner", metavar="median|hyperband|none",
                       help="how hopeless trials are ended after an epoch (default median)")
    sweep.add_argument("--seed", type=int, metavar="N", help="the sampler's seed (default: the project's experiments, else a random one)")
    sweep.add_argument("--quiet", action="store_true", help="one line per trial, without its training output")
    sweep.add_argument("--events", action="store_true", help=argparse.SUPPRESS)
    sweep.add_argument("--snapshot", metavar="COPY", help=argparse.SUPPRESS)
    sweep.set_defaults(run=cmd_sweep)

    imp = command("import", "turn an ONNX file, a PyTorch module or a Keras model into a project with its weights")
    imp.add_argument("model", metavar="MODEL", help="a .onnx, .py (PyTorch module) or .keras file")
    imp.add_argument("-o", "--output", required=True, metavar="PROJECT.cnnproj", help="the project to write")
    imp.add_argument("--input-shape", type=_shape, metavar="C,H,W",
                     help="input size without the batch axis, needed for PyTorch modules (default: read from "
                          "the model)")
    imp.add_argument("--class", dest="class_name", metavar="NAME",
                     help="the nn.Module class in a .py file (default: the only one it defines)")
    imp.add_argument("--class-args", metavar="JSON",
                     help="constructor arguments as a JSON object or list (default: none)")
    imp.add_argument("--weights", metavar="FILE",
                     help="a state_dict (.pt or .safetensors) for a PyTorch module (default: its initial weights)")
    imp.add_argument("--force", action="store_true", help="replace PROJECT if it exists")
    imp.set_defaults(run=cmd_import)

    shot = command("screenshot", "render the main window with a project open to a PNG")
    shot.add_argument("project", metavar="PROJECT", nargs="?", help="a .cnnproj file (empty canvas if left out)")
    shot.add_argument("-o", "--output", required=True, metavar="OUT.png", help="the PNG to write")
    shot.add_argument("--size", type=_size, default=(1600, 1000), metavar="WxH",
                      help="window size (default: 1600x1000)")
    shot.add_argument("--select", metavar="LAYER",
                      help="select this layer so the inspector shows it (default: no selection)")
    lab_views = tuple(f"lab-{page}" for page in ("filters", "convolution", "pooling", "receptive-field", "im2col",
                                                 "memory", "learned"))
    shot.add_argument("--view", choices=("editor", "training", *lab_views), default="editor",
                      help="training: train for --train-steps batches first, then show the training view; "
                           "lab-PAGE: show that page of the Lab tab")
    shot.add_argument("--train-steps", type=_positive, default=40, metavar="N",
                      help="batches to train before --view training shows")
    shot.set_defaults(run=cmd_screenshot)

    listing = command("templates", "list the classic architectures `new` can start from")
    listing.set_defaults(run=cmd_templates)

    new = command("new", "write a new project from a template (LeNet-5, VGG, ResNet, ...)")
    new.add_argument("--template", required=True, metavar="NAME", help="a name from `templates`, e.g. resnet50")
    new.add_argument("--input", type=_shape, metavar="C,H,W", help="input size (default: the template's own)")
    new.add_argument("--classes", type=_positive, metavar="N", help="number of classes (default: the template's)")
    new.add_argument("-o", "--output", required=True, metavar="PROJECT.cnnproj", help="the project to write")
    new.add_argument("--force", action="store_true", help="replace PROJECT if it exists")
    new.set_defaults(run=cmd_new)

    schema = command("schema", "print or write the JSON Schema of .cnnproj files")
    schema.add_argument("-o", "--output", metavar="FILE",
                        help="write to FILE (default: print it on standard output)")
    schema.set_defaults(run=cmd_schema)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code (see ``console.EXIT_CODES``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.prog_name, args.argv = parser.prog, argv
    try:
        return args.run(args)
    except UserError as error:
        print(f"cnnstudio: error: {error}", file=sys.stderr)
        return BAD_INPUT
    except KeyboardInterrupt:
        print("cnnstudio: interrupted", file=sys.stderr)
        return INTERRUPTED


def console_main() -> int:
    """The ``cnnstudio`` command and ``python -m cnnstudio``: ``main`` as a process, where a
    Ctrl+C at any moment, even after the command is done, ends with exit code 130."""
    try:
        code = main()
    except KeyboardInterrupt:  # between main's own handler and here
        code = INTERRUPTED
    exit_on_late_interrupt()
    return code


if __name__ == "__main__":
    raise SystemExit(console_main())
