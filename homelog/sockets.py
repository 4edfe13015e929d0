"""Looking at a socket without reading from it."""

import select


def has_input(fd):
    """Whether the socket `fd` has something to read (or was closed), without waiting."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(0))
    return bool(select.select([fd], [], [], 0)[0])
