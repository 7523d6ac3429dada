"""Which partitions a consumer must read again because the broker lost their records."""

from services.runtime.lost_records import past_the_end


def test_a_position_beyond_the_end_is_lost_and_one_at_the_end_is_caught_up() -> None:
    positions = {"a": 57, "b": 12, "c": 0, "d": 9}
    ends = {"a": 3, "b": 12, "c": 0, "d": None}  # d: no fetch reported its end yet
    assert past_the_end(positions, ends) == ["a"]


def test_an_unknown_position_is_never_rewound() -> None:
    assert past_the_end({"a": None}, {"a": 0}) == []
