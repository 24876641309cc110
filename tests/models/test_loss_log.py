"""The fine training-loss log: bin means equal numpy's, whatever the call sizes, and survive a JSON round trip."""

import json

import numpy as np

from models.loss_log import LossLog, bin_width

LOSSES_ExN = np.random.default_rng(0).uniform(0.5, 2.0, size=(2, 53)).astype(np.float32)
WIDTH = 7


def _expected(member: int):
    x = LOSSES_ExN[member].astype(np.float64)
    ends = list(range(WIDTH, 53, WIDTH)) + [53]
    return ends, [x[(e - 1) // WIDTH * WIDTH : e].mean() for e in ends]


def _feed(log: LossLog, start: int, stop: int, chunk: int):
    for s in range(start, stop, chunk):
        log.add(s, LOSSES_ExN[:, s : min(stop, s + chunk)])


def test_bins_are_the_means_of_their_steps_whatever_the_call_size():
    for chunk in (1, 5, 10, 53):
        log = LossLog(2, WIDTH)
        _feed(log, 0, 53, chunk)
        log.flush(53)
        for member in range(2):
            ends, means = _expected(member)
            got = log.take(member)
            assert got["train/loss_steps"] == ends
            np.testing.assert_allclose(got["train/loss_values"], means, rtol=1e-12)


def test_a_restored_log_continues_exactly():
    whole = LossLog(2, WIDTH)
    _feed(whole, 0, 53, 10)
    whole.flush(53)
    first = LossLog(2, WIDTH)
    _feed(first, 0, 30, 10)  # a checkpoint at step 30, in the middle of a bin
    resumed = LossLog(2, WIDTH, json.loads(json.dumps(first.state())))
    _feed(resumed, 30, 53, 10)
    resumed.flush(53)
    assert [resumed.take(m) for m in range(2)] == [whole.take(m) for m in range(2)]


def test_about_a_thousand_points_per_run():
    assert bin_width(60) == 1 and bin_width(8000) == 8 and 1000 <= 630_000 // bin_width(630_000) < 1010
