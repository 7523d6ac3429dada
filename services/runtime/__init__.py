"""What every PAI service shares: settings, the Avro contract and codec, topics,
the embedded broker, dead letters and the Faust app factory.

Each module owns one of those; none of them knows a domain rule.
"""
