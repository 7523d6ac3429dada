"""make test's split of the suite over two workers (tests/support/xdist_scheduling.py)."""

from __future__ import annotations

from tests.support.xdist_scheduling import is_broker_test, scope_of


def test_every_broker_test_is_one_unit_and_every_other_test_its_own() -> None:
    broker_tests = [
        "tests/integration/test_personal_data.py::test_a_persons_decisions",
        "tests/integration/test_broker_roundtrip.py::test_x[tansu]",
        "tests/e2e/test_pipeline.py::test_a_scripted_year[tansu]",
        "tests/e2e/test_run_command.py::test_ctrl_c_in_the_middle_of_the_demo",
    ]
    others = [
        "tests/unit/test_settings.py::test_defaults_suit_the_embedded_broker",
        "tests/deploy/test_overlays.py::test_x[prod]",
        "tests/interop/test_java_avro.py::test_java_and_we_agree[audit-0-PersonDataRead]",
        "tests/unit/e2e/test_integration_words.py::test_y",
    ]
    assert {scope_of(nodeid) for nodeid in broker_tests} == {"broker-tests"}
    assert [scope_of(nodeid) for nodeid in others] == others
    assert not any(is_broker_test(nodeid) for nodeid in others)
