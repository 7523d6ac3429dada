"""How ``make test`` spreads the suite over two pytest-xdist workers.

Every test that starts a broker or the services (``tests/integration``, ``tests/e2e``)
belongs to one unit of work, run on one worker in collection order, exactly as a
single-process run would run it; every other test (unit, deploy, interop: fast and
self-contained) is a unit of its own and runs on the other worker meanwhile.

Why the broker tests stay together, on one worker: they share a session broker and its
topic clock (``tests/conftest.py``'s eras), ``pai run`` and ``services.local.pipeline``
prefer fixed web ports, and their recovery timing assumes no second copy of them runs
at once. Measured: with the integration and the end-to-end tests as two units beside
each other the suite took 9 min 23 s instead of ~13, but two of four such runs failed
(the eligibility failover test's surviving worker stopped deciding after it took over,
and ``pai run``'s Ctrl-C test timed out), against none of the runs with one unit.

pytest-xdist's own ``--dist loadgroup`` cannot express this here: with pytest 9.2 it
no longer groups anything (it renames ``item._nodeid``, which pytest 9.2 stopped reading;
two marked tests landed on two workers), so the grouping is a scheduler of our own over
xdist's load-scope scheduling.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

BROKER_TESTS = ("integration", "e2e")
"""The directories under ``tests/`` whose tests form the one broker unit."""


def is_broker_test(nodeid: str) -> bool:
    """``tests/integration/test_x.py::test_y``, ``tests/e2e/...``."""
    parts = nodeid.split("::", 1)[0].split("/")
    return len(parts) > 2 and parts[0] == "tests" and parts[1] in BROKER_TESTS


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: the one broker unit, or its own."""
    return "broker-tests" if is_broker_test(nodeid) else nodeid


class BrokerTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """Load-scope scheduling with the scopes of :func:`scope_of`."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
