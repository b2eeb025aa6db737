from bench.pipeline_throughput import ingest_by_format
from synth.encode import write_audio
from synth.music import song


def test_ingest_of_a_folder_is_timed_by_format(tmp_path):
    write_audio(tmp_path / "a.flac", song(1, 20, 44100), 44100, stereo=True)
    write_audio(tmp_path / "b.flac", song(2, 10, 44100), 44100)
    write_audio(tmp_path / "c.mp3", song(3, 15, 44100), 44100)
    formats = ingest_by_format(tmp_path)
    assert sorted(formats) == ["flac", "mp3"]
    files, seconds, cpu, decoding = formats["flac"]
    assert files == 2 and abs(seconds - 30) < 0.2 and 0 < decoding < cpu
    assert formats["mp3"][0] == 1 and abs(formats["mp3"][1] - 15) < 0.2
