import redis

from homelog.tests.forwarder import Forwarder


def test_a_cut_forwarder_drops_open_connections_and_refuses_new_ones_until_restored():
    with Forwarder(("127.0.0.1", 6379)) as forwarder:
        client = redis.Redis(host="127.0.0.1", port=forwarder.port, socket_timeout=2, retry_on_timeout=False)
        assert client.ping() is True
        forwarder.cut()
        fresh = redis.Redis(host="127.0.0.1", port=forwarder.port, socket_timeout=2)
        for attempt in (client.ping, fresh.ping):
            try:
                attempt()
            except redis.ConnectionError:
                pass
            else:
                raise AssertionError("a cut forwarder answered")
        forwarder.restore()
        assert redis.Redis(host="127.0.0.1", port=forwarder.port, socket_timeout=2).ping() is True
