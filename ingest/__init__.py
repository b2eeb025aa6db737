"""Station ingesters: Kafka producers that publish timestamped audio chunks keyed by station."""
