"""Learning-rate decay phases: where they start, that a resume keeps them, and the LLM cooldown's rates
(test_smoke resumes a real cooldown run)."""

import pytest

from ddt.common import decay_factor, decay_start
from train_llm import rate_factor, schedule


def test_decay_phase_starts_once_and_survives_resumes():
    assert decay_start(None, 0, 10) is None  # no phase asked for
    assert decay_start(None, 100, 10) == 10  # fresh run: the phase starts now
    assert decay_start({"decay_from": 5, "decay_len": 100}, 100, 40) == 5  # resumed inside it
    assert decay_start({"decay_from": 5, "decay_len": 100}, 50, 40) == 40  # another length: a new phase
    assert decay_start({"decay_from": 5, "decay_len": 100}, 100, 105) == 105  # the old one is over


def test_decay_factor_runs_from_one_to_its_floor():
    assert decay_factor(10, 10, 100, 0.05) == pytest.approx(1.0)
    assert decay_factor(60, 10, 100, 0.05) == pytest.approx(0.525)
    assert decay_factor(110, 10, 100, 0.05) == pytest.approx(0.05)
    assert decay_factor(500, 10, 100, 0.05) == pytest.approx(0.05)


def test_main_schedule_ends_at_a_tenth():
    assert schedule(0, 100) == pytest.approx(1.0) and schedule(100, 100) == pytest.approx(0.1)
    assert schedule(300, 100) == pytest.approx(0.1)


def test_llm_cooldown_starts_at_the_main_schedules_rate_and_falls_to_5_percent():
    assert rate_factor(40, 100, None, 0) == pytest.approx(schedule(40, 100))
    assert rate_factor(100, 100, 100, 50) == pytest.approx(0.1)
    assert rate_factor(125, 100, 100, 50) == pytest.approx(0.1 * 0.525)
    assert rate_factor(150, 100, 100, 50) == pytest.approx(0.1 * 0.05)
    assert rate_factor(60, 200, 50, 20) == pytest.approx(schedule(50, 200) * decay_factor(60, 50, 20, 0.05))
