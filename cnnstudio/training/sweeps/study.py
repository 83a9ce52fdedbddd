"""The Optuna study behind a sweep: where it is stored, opening or carrying it on,
and reading its trials back as plain rows.

By default a project's studies live in one SQLite file beside it,
``NAME.sweeps.db`` next to ``NAME.cnnproj``; any SQLAlchemy URL works instead
(``postgresql://...``, ``mysql://...``), which is how several machines share one
study (Optuna's distributed mode: run the same ``sweep`` command on each).  A
study remembers the space and objective it was started with; carrying it on
with a different one is refused, because its trials would no longer compare.

Each trial keeps, as Optuna user attributes, what the table needs beside the
values tried: the run folder, parameters, MACs, time, and a failure's message.
"""

from __future__ import annotations

import contextlib
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from .experiment import Experiment
from .space import Dimension, SpaceError

STORAGE_SUFFIX = ".sweeps.db"
HEARTBEAT_SECONDS = 30          # a running trial says it is alive this often...
GRACE_SECONDS = 120             # ...and is marked failed this long after it stopped saying so
OPEN_ATTEMPTS = 4

COMPLETE, PRUNED, FAILED, STOPPED, RUNNING = "complete", "pruned", "failed", "stopped", "running"
#: trial states that count towards the budget (a trial stopped by the user does not)
COUNTED = (COMPLETE, PRUNED, FAILED)


class StudyError(Exception):
    """The study's storage cannot be used (unreachable database, damaged file)."""


def default_storage(project_file: str | os.PathLike[str]) -> str:
    """``sqlite:///.../NAME.sweeps.db`` beside ``NAME.cnnproj``."""
    path = Path(project_file).resolve()
    return "sqlite:///" + str(path.with_name(path.stem + STORAGE_SUFFIX))


def storage_url(given: str | None, project_file: str | os.PathLike[str]) -> str:
    """A storage URL from ``--storage``: a URL as it is, a plain path as a SQLite file."""
    if not given:
        return default_storage(project_file)
    return given if "://" in given else "sqlite:///" + str(Path(given).resolve())


def shown_storage(url: str) -> str:
    """The storage for messages: a SQLite file's path, other URLs without their password."""
    if url.startswith("sqlite:///"):
        return url[len("sqlite:///"):]
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown as given; opening it reports the problem
        return url


def open_storage(url: str):
    """Optuna's RDB storage for ``url`` with heartbeats, so a trial whose process died is
    marked failed by the next sweep on that study."""
    import optuna
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    for attempt in range(OPEN_ATTEMPTS):
        try:
            with quiet_optuna():
                return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_SECONDS,
                                                  grace_period=GRACE_SECONDS)
        except (ArgumentError, ValueError, ImportError) as error:
            raise SpaceError("--storage", f"{shown_storage(url)} is not a storage URL CNN Studio can use "
                                          f"({_first_line(error)}); give a file path or sqlite:///PATH") from None
        except SQLAlchemyError as error:
            # two machines starting on a new storage at once both create its tables: the loser retries
            if attempt + 1 == OPEN_ATTEMPTS or "already exists" not in str(error):
                raise StudyError(f"cannot open the study storage {shown_storage(url)}: {_first_line(error)}") \
                    from None
            time.sleep(0.5 * (attempt + 1))


def open_study(experiment: Experiment, url: str, *, sampler: Any = None, pruner: Any = None):
    """Create the experiment's study, or carry on the one of that name (same space and
    objective only)."""
    import optuna

    storage = open_storage(url)
    try:
        with quiet_optuna():
            study = optuna.create_study(storage=storage, study_name=experiment.name, sampler=sampler, pruner=pruner,
                                        direction=experiment.objective.direction, load_if_exists=True)
    except ValueError as error:  # e.g. an existing study with another direction
        raise SpaceError("--name", f"study {experiment.name!r}: {_first_line(error)}") from None
    stored = study.user_attrs
    if "space" in stored:
        if stored_space(stored) != experiment.space.specs() or stored.get("objective") != experiment.objective.metric \
                or study.direction.name.lower() != experiment.objective.direction:
            raise SpaceError("--name", f"study {experiment.name!r} in {shown_storage(url)} was run with another "
                                       f"search space or objective ({_describe(stored)}); carry it on with the same "
                                       "ones, or give the new sweep another --name")
    else:  # as [name, spec] pairs: storages may not keep an object's key order, and columns follow it
        study.set_user_attr("space", [[name, spec] for name, spec in experiment.space.specs().items()])
        study.set_user_attr("objective", experiment.objective.metric)
    return study


def stored_space(attrs: dict) -> dict[str, str]:
    """The space a study was started with, from its user attributes."""
    return dict(attrs.get("space") or [])


def study_names(url: str) -> list[str]:
    """The studies kept in ``url`` (none when the file does not exist yet)."""
    import optuna

    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).exists():
        return []
    return optuna.get_all_study_names(open_storage(url))


def load_study(url: str, name: str):
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with quiet_optuna():
            return optuna.load_study(study_name=name, storage=open_storage(url))
    except KeyError:
        raise SpaceError("--name", f"there is no study {name!r} in {shown_storage(url)}") from None
    except SQLAlchemyError as error:
        raise StudyError(f"cannot read {shown_storage(url)}: {_first_line(error)}") from None


@contextlib.contextmanager
def quiet_optuna() -> Iterator[None]:
    """Optuna logs every study and trial (and a failed trial's traceback) and warns about
    experimental arguments; a sweep says what matters in its own words."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(before)


# ============================================================================ rows

@dataclass
class TrialRow:
    """One trial as the table and the plots show it."""

    number: int
    state: str
    values: dict[str, Any] = field(default_factory=dict)   # the swept settings' values
    score: float | None = None                             # the objective's value
    message: str = ""
    run: str = ""                                          # the run folder
    params: int | None = None
    macs: int | None = None
    seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "TrialRow":
        known = set(cls.__dataclass_fields__)
        return cls(**{key: value for key, value in data.items() if key in known})

    @property
    def counted(self) -> bool:
        return self.state in COUNTED

    def cost(self, axis: str) -> float | None:
        """``params``, ``macs`` or ``seconds``."""
        value = getattr(self, axis)
        return float(value) if value is not None else None


def trial_row(trial: Any) -> TrialRow:
    """A row from an Optuna ``FrozenTrial``."""
    from optuna.trial import TrialState

    attrs = trial.user_attrs
    state = {TrialState.COMPLETE: COMPLETE, TrialState.PRUNED: PRUNED, TrialState.RUNNING: RUNNING,
             TrialState.WAITING: RUNNING}.get(trial.state, FAILED)
    if state == FAILED and attrs.get("stopped"):
        state = STOPPED
    score = trial.value if state == COMPLETE else None
    if state == PRUNED and trial.intermediate_values:
        score = trial.intermediate_values[max(trial.intermediate_values)]
    message = attrs.get("message", "")
    if state == FAILED and not message:
        message = trial.system_attrs.get("fail_reason", "") or "the trial's process ended without a word"
    return TrialRow(trial.number, state, dict(trial.params), score, message, attrs.get("run", ""),
                    attrs.get("params"), attrs.get("macs"), attrs.get("seconds"))


def read_rows(study: Any) -> list[TrialRow]:
    return [trial_row(trial) for trial in study.get_trials(deepcopy=False)]


def read_trials(url: str, name: str) -> list[TrialRow]:
    """Every trial of study ``name`` in ``url``, in order."""
    return read_rows(load_study(url, name))


@dataclass
class StudySnapshot:
    """A study as the Experiments view shows it: its space, objective and trials."""

    name: str
    specs: dict[str, str]
    objective: str
    direction: str
    rows: list[TrialRow]
    dimensions: list[Dimension] = field(default_factory=list)   # as the trials' distributions say

    @property
    def maximize(self) -> bool:
        return self.direction == "maximize"


def dimension_of(name: str, spec: str, distribution: Any) -> Dimension:
    """A dimension from the Optuna distribution a trial drew ``name`` from (what a picture
    of the study needs, whatever the network looks like now)."""
    from optuna.distributions import CategoricalDistribution, IntDistribution

    if isinstance(distribution, CategoricalDistribution):
        return Dimension(name, spec, "choice", choices=tuple(distribution.choices))
    kind = "int" if isinstance(distribution, IntDistribution) else "float"
    step = distribution.step if kind == "float" or distribution.step != 1 else None
    return Dimension(name, spec, kind, low=distribution.low, high=distribution.high, log=distribution.log, step=step)


def read_study(url: str, name: str) -> StudySnapshot | None:
    """Study ``name`` in ``url``, or ``None`` when there is none yet."""
    if name not in study_names(url):
        return None
    study = load_study(url, name)
    specs = stored_space(study.user_attrs)
    distributions: dict[str, Any] = {}
    for trial in study.get_trials(deepcopy=False):
        for key, distribution in trial.distributions.items():
            distributions.setdefault(key, distribution)
    dimensions = [dimension_of(key, spec, distributions[key]) for key, spec in specs.items() if key in distributions]
    return StudySnapshot(name, specs, study.user_attrs.get("objective", ""), study.direction.name.lower(),
                         read_rows(study), dimensions)


def counted_trials(study: Any) -> int:
    return sum(1 for row in read_rows(study) if row.counted)


def _describe(stored: dict) -> str:
    space = ", ".join(f"{name}={spec}" for name, spec in stored_space(stored).items())
    return f"{space}; objective {stored.get('objective', '?')}"


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


__all__ = ["COMPLETE", "COUNTED", "FAILED", "PRUNED", "RUNNING", "STOPPED", "StudyError", "StudySnapshot", "TrialRow",
           "counted_trials", "default_storage", "dimension_of", "load_study", "open_storage", "open_study",
           "quiet_optuna", "read_rows", "read_study", "read_trials", "shown_storage", "storage_url", "stored_space",
           "study_names", "trial_row"]
