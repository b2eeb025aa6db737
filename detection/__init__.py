"""The signal core: decode, fingerprint, index, match and the match-to-play logic.

Plain functions and small classes over numpy arrays.  No Kafka, no database: the agents, the offline
scan and the benchmark all call exactly these.
"""
