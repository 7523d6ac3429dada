"""pai-gateway: OPS systems post events over signed HTTPS instead of running a Kafka producer."""
