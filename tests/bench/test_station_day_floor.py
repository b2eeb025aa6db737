"""A short simulated station day in CI: a floor well below bench/'s targets, so a regression shows."""
from bench.station_day import PROFILES, simulate


def test_light_profile_day_keeps_a_floor():
    scores, *_ = simulate(PROFILES["light"], seed=5, minutes=8, songs=10)
    assert scores.aired >= 3
    assert scores.recall >= 0.9
    assert scores.precision >= 0.9
    assert float(max(scores.start_errors)) <= 5 and float(max(scores.end_errors)) <= 5
