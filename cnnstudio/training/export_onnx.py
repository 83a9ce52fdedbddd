"""ONNX export: the built model through ``torch.onnx.export(..., dynamo=True)``, quietly.

The exporter prints progress lines, logs warnings about optional packages
(torchvision) and raises Python warnings from deep inside torch.export; none of
that helps a user who asked for a file, so all of it is captured while the
exporter runs.  A real failure still surfaces: as an ``ExportError`` with the
exporter's message, and the captured output on its ``log`` attribute.  The
capture is process-wide (``sys.stdout``/``sys.stderr``, Python warnings, the
exporter's loggers) for the few seconds the export takes.

The file has one input ``input`` of shape ``(batch, *input_shape)`` with a
dynamic batch axis, and one output ``output``: what ``forward`` returns
(probabilities when the network ends in a softmax).  Every layer stays a node of
its own (BatchNorm is not folded into the convolution before it), so the file
shows the network as designed and imports back into CNN Studio unchanged.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import logging
import os
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

from .export_errors import ExportError

if TYPE_CHECKING:  # pragma: no cover
    import torch

INPUT_NAME = "input"
OUTPUT_NAME = "output"
#: loggers the exporter and its helpers talk through; quieted to errors while exporting
NOISY_LOGGERS = ("torch.onnx", "torch.export", "torch._export", "torch._dynamo", "torch.fx", "onnxscript")
#: the example batch traced by torch.export; 2 rather than 1, which it would specialise
EXAMPLE_BATCH = 2


def write_onnx(model: "torch.nn.Module", input_shape: tuple[int, ...], output_path: str | os.PathLike[str], *,
               opset_version: int | None = None) -> Path:
    """Export ``model`` (put in eval mode) to ``output_path`` with a dynamic batch axis.

    ``opset_version=None`` takes the exporter's default.  The file is written in a
    temporary folder beside the target and moved into place when complete (a very
    large model also gets a ``<name>.data`` file of external weights, moved first).
    """
    import torch

    try:
        import onnx  # noqa: F401  (both are needed by the dynamo exporter)
        import onnxscript  # noqa: F401
    except ImportError as error:
        raise ExportError(f"ONNX export needs the onnx and onnxscript packages ({error.name} is missing): "
                          "pip install onnx onnxscript") from None

    model.eval()
    parameter = next(model.parameters(), None)
    dtype = parameter.dtype if parameter is not None else torch.float32
    device = parameter.device if parameter is not None else torch.device("cpu")
    example = torch.randn(EXAMPLE_BATCH, *input_shape, dtype=dtype, device=device,
                          generator=torch.Generator(device=device).manual_seed(0))
    argument = next(iter(inspect.signature(model.forward).parameters))
    log = io.StringIO()
    try:
        with _quiet(log):
            program = torch.onnx.export(
                model, (example,), dynamo=True, verbose=False, opset_version=opset_version,
                input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                dynamic_shapes={argument: {0: torch.export.Dim("batch")}}, optimize=False)
            if program is not None:
                _fold_constants(program.model)
    except Exception as error:
        raise ExportError(f"ONNX export failed: {error}", log.getvalue()) from error
    if program is None:  # pragma: no cover - only the legacy exporter returns None
        raise ExportError("ONNX export failed: the exporter returned no program")

    target = Path(output_path)
    if target.is_symlink():
        target = target.resolve()
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"))
    try:
        with _quiet(log):
            program.save(staging / target.name)
        written = sorted(staging.iterdir(), key=lambda p: p.name == target.name)  # the .onnx file last
        for file in written:
            _fsync(file)
            os.replace(file, target.parent / file.name)
    except OSError as error:
        raise ExportError(f"{target}: cannot write the ONNX file ({error.strerror or error})") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _fold_constants(model) -> None:
    """Fold constants and drop unused nodes, but keep every layer as its own node: the
    exporter's default optimisation also folds BatchNorm into the convolution before it,
    which hides the designed network in viewers and from CNN Studio's own ONNX import
    (runtimes such as onnxruntime fold it themselves when they load the file)."""
    import onnxscript.optimizer

    onnxscript.optimizer.fold_constants(model)
    onnxscript.optimizer.remove_unused_nodes(model)


@contextlib.contextmanager
def _quiet(log: io.StringIO) -> Iterator[None]:
    """Send prints, Python warnings and the exporter's log records to ``log`` for a while."""
    handler = logging.StreamHandler(log)
    loggers = [logging.getLogger(name) for name in NOISY_LOGGERS]
    saved = [(logger.level, logger.propagate) for logger in loggers]
    with warnings.catch_warnings(record=True) as caught, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        warnings.simplefilter("always")
        for logger in loggers:
            logger.addHandler(handler)
            logger.setLevel(logging.ERROR)
            logger.propagate = False
        try:
            yield
        finally:
            for logger, (level, propagate) in zip(loggers, saved):
                logger.removeHandler(handler)
                logger.setLevel(level)
                logger.propagate = propagate
            for warning in caught:
                log.write(f"{warning.category.__name__}: {warning.message}\n")


def _fsync(file: Path) -> None:
    fd = os.open(file, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
