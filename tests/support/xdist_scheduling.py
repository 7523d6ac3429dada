"""How ``make test`` spreads the suite over two pytest-xdist workers.

Every test that starts a broker or the services (``tests/integration``, ``tests/e2e``)
is one unit of work, run on one worker in collection order, exactly as a single-process
run would: those tests use fixed ports (``pai run``'s), a session broker and timing that
assumes they do not share the machine with a second copy of themselves. Every other test
(unit, deploy, interop: fast and self-contained) is a unit of its own and runs on the
other worker meanwhile.

pytest-xdist's own ``--dist loadgroup`` cannot express this here: with pytest 9.2 it
no longer groups anything (it renames ``item._nodeid``, which pytest 9.2 stopped reading),
so the grouping is a scheduler of our own over xdist's load-scope scheduling.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

BROKER_TESTS = ("integration", "e2e")
"""The directories under ``tests/`` whose tests form the one broker unit."""


def is_broker_test(nodeid: str) -> bool:
    """``tests/integration/test_x.py::test_y`` and the like."""
    parts = nodeid.split("::", 1)[0].split("/")
    return len(parts) > 2 and parts[0] == "tests" and parts[1] in BROKER_TESTS


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: every broker test the same one, every other its
    own."""
    return "broker-tests" if is_broker_test(nodeid) else nodeid


class BrokerTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """Load-scope scheduling whose scopes are: every broker test together, every other
    test alone."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
