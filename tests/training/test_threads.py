"""The thread policy: ``auto`` follows whichever team size trains fastest on the machine as it is."""

from __future__ import annotations

import pytest

from cnnstudio.training.threads import ThreadTuner, candidate_sizes, initial_choice, parse_threads


class ScriptedMachine:
    """A machine where a batch takes ``cost[threads]`` seconds; ``load_changes_at`` swaps the costs
    after that many batches (another program starts using a core)."""

    def __init__(self, cost: dict[int, float], later: dict[int, float] | None = None, load_changes_at: int = 10**9):
        self.cost, self.later, self.load_changes_at = cost, later or cost, load_changes_at
        self.now = 0.0
        self.threads = max(cost)
        self.batches = 0
        self.used: list[int] = []

    def clock(self) -> float:
        return self.now

    def set_threads(self, size: int) -> None:
        self.threads = size

    def run(self, tuner: ThreadTuner, batches: int) -> None:
        tuner.set_params({"batch_size": 64, "samples": 64 * 10**6, "steps": 10**6})
        tuner.on_train_begin()
        for batch in range(batches):
            tuner.on_train_batch_begin(batch)
            costs = self.cost if self.batches < self.load_changes_at else self.later
            self.now += costs[self.threads]
            self.batches += 1
            self.used.append(self.threads)
            tuner.on_train_batch_end(batch)


def tuner_for(machine: ScriptedMachine, **options) -> ThreadTuner:
    return ThreadTuner([2, 1], set_threads=machine.set_threads, clock=machine.clock, **options)


def test_on_an_idle_machine_it_keeps_every_core():
    machine = ScriptedMachine({2: 0.020, 1: 0.035})
    tuner = tuner_for(machine, interval=5.0)
    machine.run(tuner, 2000)
    assert tuner.current == 2 and tuner.rounds > 1
    assert machine.used.count(2) / len(machine.used) > 0.95  # the probes at one thread cost little


def test_with_a_busy_core_it_moves_to_one_thread_and_back_when_the_core_frees():
    # one core busy elsewhere: a team of 2 waits on the thread that lost its core
    machine = ScriptedMachine({2: 0.080, 1: 0.040}, later={2: 0.020, 1: 0.035}, load_changes_at=600)
    tuner = tuner_for(machine, interval=5.0)
    machine.run(tuner, 400)
    assert tuner.current == 1
    machine.run(tuner, 800)
    assert tuner.current == 2


def test_a_bigger_team_wins_a_near_tie():
    machine = ScriptedMachine({2: 0.0202, 1: 0.0200})
    tuner = tuner_for(machine)
    machine.run(tuner, 200)
    assert tuner.measured and tuner.current == 2


def test_policy_words():
    assert parse_threads(None) == "auto" and parse_threads("3") == 3 and parse_threads(2.0) == 2
    for bad in (0, -1, "many", 1.5, True):
        with pytest.raises(ValueError, match="threads must be 'auto' or a whole number"):
            parse_threads(bad)
    assert candidate_sizes(8) == [8, 7, 4, 1] and candidate_sizes(2) == [2, 1] and candidate_sizes(1) == [1]
    assert initial_choice(3, "cpu", False).reason == "as set"
    assert initial_choice("auto", "cpu", True).reason == "fixed for a deterministic run"
    assert "cuda" in initial_choice("auto", "cuda", False).reason
