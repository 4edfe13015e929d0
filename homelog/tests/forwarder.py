"""A TCP forwarder that a test can cut and restore, to see homelog through an outage of Redis or PostgreSQL
as a flaky network would show it: while cut, new connections are refused and open ones are dropped."""

import contextlib
import socket
import threading


class Forwarder:
    """Listens on 127.0.0.1:<port> and forwards every connection to `target` (host, port).

    `cut()` closes every open connection and refuses new ones until `restore()`. Use it as a context
    manager, or call `close()`, so that its threads end with the test.
    """

    def __init__(self, target, port=0):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", port))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open = set()
        self._is_cut = False
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url_host(self):
        return f"127.0.0.1:{self.port}"

    def cut(self):
        with self._lock:
            self._is_cut = True
            sockets, self._open = self._open, set()
        for sock in sockets:
            _close(sock)

    def restore(self):
        with self._lock:
            self._is_cut = False

    def close(self):
        self._closed = True
        self.cut()
        _close(self._listener)
        self._thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    def _accept(self):
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                refuse = self._is_cut
            if refuse:
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with self._lock:
                    self._open.discard(sock)
                _close(sock)


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
