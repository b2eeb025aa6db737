from airspin.settings import Settings


def test_defaults_are_local_and_safe():
    settings = Settings.from_env({})
    assert settings.web_host == "127.0.0.1"
    assert settings.kafka_bootstrap == "127.0.0.1:9092"


def test_environment_overrides_with_types():
    settings = Settings.from_env({
        "DATABASE_URL": "postgresql://u@db/x", "AIRSPIN_PARTITIONS": "8",
        "AIRSPIN_SESSION_TIMEOUT_S": "4.5", "AIRSPIN_TOPIC_PREFIX": "staging-",
    })
    assert settings.database_url == "postgresql://u@db/x"
    assert settings.partitions == 8 and settings.session_timeout_s == 4.5
    assert settings.topic_name("plays") == "staging-plays"
