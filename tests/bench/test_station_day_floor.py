"""Short simulated station days in CI: a floor well below bench/'s targets, so a regression shows."""
from bench.station_day import PROFILES, simulate


def test_light_profile_day_keeps_a_floor():
    scores, *_ = simulate(PROFILES["light"], seed=5, minutes=8, songs=10)
    assert scores.aired >= 3
    assert scores.recall >= 0.9
    assert scores.precision >= 0.9
    assert float(max(scores.start_errors)) <= 5 and float(max(scores.end_errors)) <= 5


def test_hard_profile_day_finds_songs_played_off_speed():
    # Songs sped up or slowed down by up to 4%, pink noise at 10 dB, 64 kbps MP3, dropouts.
    scores, *_ = simulate(PROFILES["hard"], seed=5, minutes=10, songs=10)
    speed_recall, speed_plays = scores.recall_by_group["speed"]
    assert speed_plays >= 2 and speed_recall >= 0.8
    assert scores.recall >= 0.85 and scores.precision >= 0.9
    assert float(max(scores.start_errors)) <= 6 and float(max(scores.end_errors)) <= 6
