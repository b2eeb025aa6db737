"""airspin: broadcast monitoring on Kafka.  The Faust app, its settings, runtime and CLI live here."""
