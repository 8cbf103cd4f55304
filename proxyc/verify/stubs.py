"""Stub backends for live routing tests, all bound to 127.0.0.1.

Each HTTP stub answers every method and path with 200, ``X-Stub: <identity>``
and a JSON echo of the request, so a test can tell which backend a proxy chose
and what the proxy forwarded (path as received, Host, headers). The TCP stub
sends ``identity\\n`` and closes, for L4 (mode tcp / stream{}) tests.

The servers run in daemon threads of the test process: no subprocesses to leak.
"""

from __future__ import annotations

import json
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port that was free a moment ago (the kernel's pick for port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class _HTTPHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real backend

    def __getattr__(self, name):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; answer them all.
        if name.startswith("do_"):
            return self._answer
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _answer(self):
        stub = self.server.stub
        self._read_body()
        record = {
            "stub": stub.identity,
            "method": self.command,
            "path": self.path,  # raw request target, exactly as the proxy sent it
            "host": self.headers.get("Host"),
            "headers": dict(self.headers.items()),
            "client": self.client_address[0],
        }
        stub.record(record)
        if stub.delay:
            time.sleep(stub.delay)  # hold the connection (least-connections tests)
        body = json.dumps(record).encode()
        self.send_response(200)
        self.send_header("X-Stub", stub.identity)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format, *args):  # keep test output clean
        pass


class _TCPHandler(socketserver.BaseRequestHandler):
    def handle(self):
        stub = self.server.stub
        stub.record({"stub": stub.identity, "client": self.client_address[0]})
        if stub.delay:
            time.sleep(stub.delay)
        sock = self.request
        sock.sendall(f"{stub.identity}\n".encode())
        # Graceful close: half-close, then drain briefly. Closing with unread
        # client data in the buffer would send RST and the client could lose
        # the identity line.
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(1)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass


class _TrackingMixin:
    """Remembers open client sockets so stop() can cut keep-alive connections:
    shutting down the listener alone leaves them served by their threads, and a
    'stopped' backend that still answers would fake a failover test."""

    daemon_threads = True
    allow_reuse_address = True  # restart on the same port despite TIME_WAIT

    def __init__(self, stub, *args, **kwargs):
        self.stub = stub  # handlers reach their stub through the server
        super().__init__(*args, **kwargs)

    def get_request(self):
        conn, addr = super().get_request()
        with self.stub.lock:
            self.stub.conns.add(conn)
        return conn, addr

    def shutdown_request(self, request):
        with self.stub.lock:
            self.stub.conns.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request, client_address):
        # Health checks and stopped stubs reset connections all the time; that is expected
        # traffic, not an error worth a traceback on the user's terminal.
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _HTTPServer(_TrackingMixin, ThreadingHTTPServer):
    pass


class _TCPServer(_TrackingMixin, socketserver.ThreadingTCPServer):
    pass


class _Stub:
    def __init__(self, identity: str, kind: str, port: int):
        self.identity, self.kind, self.port = identity, kind, port
        self.delay = 0.0
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        self.conns: set[socket.socket] = set()
        self.server = None

    def record(self, r: dict) -> None:
        with self.lock:
            self.requests.append(r)

    @property
    def running(self) -> bool:
        return self.server is not None

    def start(self) -> None:
        if self.server:
            return
        cls, handler = (_HTTPServer, _HTTPHandler) if self.kind == "http" else (_TCPServer, _TCPHandler)
        server = cls(self, (LOOPBACK, self.port), handler)
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                         name=f"stub-{self.identity}", daemon=True).start()
        self.server = server

    def stop(self) -> None:
        if not self.server:
            return
        self.server.shutdown()
        self.server.server_close()
        with self.lock:
            conns, self.conns = list(self.conns), set()
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            c.close()
        self.server = None


class StubBackends:
    """``with StubBackends() as b: port = b.add("a"); ...; b.counts()``"""

    def __init__(self, identities: list[str] | tuple[str, ...] = ()):
        self._stubs: dict[str, _Stub] = {}
        for ident in identities:
            self.add(ident)

    def __enter__(self) -> "StubBackends":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _new(self, identity: str, kind: str, port: int | None) -> int:
        if identity in self._stubs:
            raise ValueError(f"stub {identity!r} already exists")
        stub = _Stub(identity, kind, port or 0)
        stub.start()
        self._stubs[identity] = stub
        return stub.port

    def add(self, identity: str, port: int | None = None) -> int:
        """Start an HTTP stub; returns its port on 127.0.0.1."""
        return self._new(identity, "http", port)

    def add_tcp(self, identity: str, port: int | None = None) -> int:
        """Start a TCP stub that sends ``identity\\n`` and closes."""
        return self._new(identity, "tcp", port)

    def port(self, identity: str) -> int:
        return self._stubs[identity].port

    def stop(self, identity: str) -> None:
        """Stop listening and cut open connections: the port now refuses."""
        self._stubs[identity].stop()

    def start(self, identity: str) -> None:
        """Restart a stopped stub on the same port."""
        self._stubs[identity].start()

    def hold(self, identity: str, seconds: float) -> None:
        """Make every response of this stub wait ``seconds`` first (0 to undo)."""
        self._stubs[identity].delay = seconds

    def requests(self, identity: str) -> list[dict]:
        with self._stubs[identity].lock:
            return list(self._stubs[identity].requests)

    def counts(self) -> dict[str, int]:
        return {i: len(s.requests) for i, s in self._stubs.items()}

    def reset(self) -> None:
        for s in self._stubs.values():
            with s.lock:
                s.requests.clear()

    def close(self) -> None:
        for s in self._stubs.values():
            s.stop()
