import os
import socket

import pytest

# The ports the servers these tests start may listen on, "first-last"; on a shared machine each checkout can
# be given its own range.
_first, _last = os.environ.get("TEST_PORTS", "8300-8399").split("-")
PORTS = range(int(_first), int(_last) + 1)


def free_port():
    """A port of our range that nothing listens on right now."""
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS}")


@pytest.fixture
def unused_port():
    return free_port()
