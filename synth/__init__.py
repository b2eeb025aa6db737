"""Synthesised audio for tests, the demo and the benchmark: seeded songs, speech-like talk, broadcasts."""
