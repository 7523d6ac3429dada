"""How ``make test`` spreads the suite over two pytest-xdist workers.

The integration tests (``tests/integration``: one session broker, workers started per
test) are one unit of work and the end-to-end tests (``tests/e2e``: a broker per test,
the services as processes) another; each runs on one worker, in collection order, as a
single-process run would run it, and the two run beside each other. Every other test
(unit, deploy, interop: fast and self-contained) is a unit of its own and goes to the
first worker that is nearly done with its unit.

Why the two broker units never split: the tests within each share a session broker and
its topic clock (``tests/conftest.py``'s eras) and assume that no second copy of
themselves runs at once; ``pai run`` and ``services.local.pipeline`` prefer fixed web
ports and fall back to free ones, which only the e2e unit uses.

pytest-xdist's own ``--dist loadgroup`` cannot express this here: with pytest 9.2 it
no longer groups anything (it renames ``item._nodeid``, which pytest 9.2 stopped reading;
two marked tests landed on two workers), so the grouping is a scheduler of our own over
xdist's load-scope scheduling.
"""

from __future__ import annotations

from xdist.scheduler import LoadScopeScheduling

BROKER_TESTS = ("integration", "e2e")
"""The directories under ``tests/`` whose tests form one unit each."""


def broker_unit(nodeid: str) -> str | None:
    """``integration`` for ``tests/integration/test_x.py::test_y``, ``e2e`` likewise, else
    None."""
    parts = nodeid.split("::", 1)[0].split("/")
    if len(parts) > 2 and parts[0] == "tests" and parts[1] in BROKER_TESTS:
        return parts[1]
    return None


def scope_of(nodeid: str) -> str:
    """The unit of work a test belongs to: its directory's for a broker test, its own for
    every other test."""
    unit = broker_unit(nodeid)
    return nodeid if unit is None else f"broker-tests:{unit}"


class BrokerTestsTogether(LoadScopeScheduling):  # type: ignore[misc]  # xdist is untyped
    """Load-scope scheduling with the scopes of :func:`scope_of`."""

    def _split_scope(self, nodeid: str) -> str:
        return scope_of(nodeid)
