"""A PostgreSQL wire-protocol relay on loopback, with a hook for each statement a client sends.

The product connects to it exactly as it connects to Redshift (psycopg, host, port, user,
password); the relay passes every message to the real PostgreSQL server, but each statement goes
through the `Hooks` first: a hook may pass it on, send other SQL in its place, or answer the client
itself. A hook can run statements of its own in the client's session (same backend, same
transaction, same temp tables) with `Relay.run`.
"""

from __future__ import annotations

import select
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Protocol

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102


class Closed(Exception):
    """The peer went away."""


class Stream:
    """One side of the relay: a socket and what has been received from it but not yet used."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def fill(self) -> None:
        data = self.sock.recv(1 << 16)
        if not data:
            raise Closed()
        self.buffer += data

    def _take(self, n: int) -> bytes:
        while len(self.buffer) < n:
            self.fill()
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def startup(self) -> bytes:
        """A startup-phase packet (length, then body; no type byte)."""
        head = self._take(4)
        return head + self._take(struct.unpack("!I", head)[0] - 4)

    def has_message(self) -> bool:
        return len(self.buffer) >= 5 and len(self.buffer) >= 1 + struct.unpack("!I", self.buffer[1:5])[0]

    def message(self) -> tuple[bytes, bytes]:
        """(type, whole message), waiting for it if need be."""
        head = self._take(5)
        return head[:1], head + self._take(struct.unpack("!I", head[1:5])[0] - 4)


def message(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def cstring(text: str) -> bytes:
    return text.encode() + b"\0"


def error_response(code: str, text: str, severity: str = "ERROR") -> bytes:
    fields = b"S" + cstring(severity) + b"V" + cstring(severity) + b"C" + cstring(code) + b"M" + cstring(text)
    return message(b"E", fields + b"\0")


def notice(text: str, severity: str = "INFO") -> bytes:
    return message(b"N", b"S" + cstring(severity) + b"V" + cstring(severity) + b"C" + cstring("00000")
                   + b"M" + cstring(text) + b"\0")


def command_complete(tag: str) -> bytes:
    return message(b"C", cstring(tag))


def ready(status: bytes) -> bytes:
    return message(b"Z", status)


def query_text(raw: bytes) -> str:
    return raw[5:-1].decode()


def parse_text(raw: bytes) -> str:
    """The statement of a Parse message (name, then the query)."""
    body = raw[5:]
    return body[body.index(b"\0") + 1:].split(b"\0", 1)[0].decode()


def error_fields(raw: bytes) -> dict[str, str]:
    fields, body = {}, raw[5:]
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode(errors="replace")
    return fields


@dataclass
class Result:
    """What one statement run by the relay itself returned."""

    rows: list[list[str | None]] = field(default_factory=list)
    tag: str = ""
    error: dict[str, str] | None = None
    error_raw: bytes = b""
    status: bytes = b"I"


#: A hook's answer: forward the statement unchanged (None), send this SQL in its place (str), or
#: nothing more to do (HANDLED: the hook has answered the client).
HANDLED = object()


class Hooks(Protocol):
    #: Server parameters reported to the client in place of PostgreSQL's (ParameterStatus).
    parameters: dict[str, str]

    def on_query(self, relay: Relay, sql: str) -> object: ...
    def on_parse(self, relay: Relay, sql: str) -> str | None: ...  # why it is refused, or None
    def on_close(self, relay: Relay) -> None: ...
    def on_crash(self, relay: Relay, error: BaseException) -> None: ...  # a bug in the stand-in itself


class Relay:
    """One client connection and its own connection to the server."""

    def __init__(self, client: socket.socket, upstream: tuple[str, int], hooks: Hooks) -> None:
        self.client = Stream(client)
        self.server = Stream(socket.create_connection(upstream))
        self.hooks = hooks
        self.status = b"I"
        self.pid = 0
        self.params: dict[str, str] = {}
        self._skip_to_sync = False

    # -- talking to the server from inside a hook -------------------------------------------

    def run(self, sql: str) -> Result:
        """Run `sql` in the client's session (simple query protocol); nothing reaches the client."""
        if self.server.buffer:  # a reply not yet relayed would be taken for this statement's
            raise RuntimeError(f"the server sent {len(self.server.buffer)} bytes not yet relayed before: {sql[:80]}")
        self.server.sock.sendall(message(b"Q", cstring(sql)))
        result = Result()
        while True:
            kind, raw = self.server.message()
            if kind == b"D":
                result.rows.append(_data_row(raw))
            elif kind == b"C":
                result.tag = raw[5:-1].decode()
            elif kind == b"E":
                result.error, result.error_raw = error_fields(raw), raw
            elif kind == b"Z":
                result.status = self.status = raw[5:6]
                return result

    def reply(self, *messages: bytes) -> None:
        self.client.sock.sendall(b"".join(messages))

    # -- the relay loop -------------------------------------------------------------------

    def serve(self) -> None:
        try:
            if not self._startup():
                return
            while True:
                if not (self.client.has_message() or self.server.has_message()):
                    readable = select.select([self.client.sock, self.server.sock], [], [])[0]
                    for stream in (self.client, self.server):
                        if stream.sock in readable:
                            stream.fill()
                while self.server.has_message():
                    self._from_server(*self.server.message())
                while self.client.has_message():
                    self._from_client(*self.client.message())
        except (Closed, ConnectionError):
            pass
        except Exception as exc:  # noqa: BLE001 - a stand-in bug: tell the client and the test, never vanish
            self.hooks.on_crash(self, exc)
            try:
                self.reply(error_response("XX000", f"Redshift stand-in crashed: {type(exc).__name__}: {exc}", "FATAL"))
            except OSError:
                pass
        finally:
            self.hooks.on_close(self)
            for stream in (self.client, self.server):
                stream.sock.close()

    def _startup(self) -> bool:
        packet = self.client.startup()
        code = struct.unpack("!I", packet[4:8])[0]
        while code in (SSL_REQUEST, GSSENC_REQUEST):  # no TLS on loopback: "N", then the real startup
            self.client.sock.sendall(b"N")
            packet = self.client.startup()
            code = struct.unpack("!I", packet[4:8])[0]
        if code == CANCEL_REQUEST:
            self.server.sock.sendall(packet)
            return False
        words = packet[8:].split(b"\0")
        self.params = {k.decode(): v.decode() for k, v in zip(words[::2], words[1::2]) if k}
        self.server.sock.sendall(packet)
        return True

    def _from_server(self, kind: bytes, raw: bytes) -> None:
        if kind == b"K":
            self.pid = struct.unpack("!I", raw[5:9])[0]
        elif kind == b"S":
            name, value = raw[5:-1].decode().split("\0", 1)
            if name in self.hooks.parameters:
                raw = message(b"S", cstring(name) + cstring(self.hooks.parameters[name]))
        elif kind == b"Z":
            self.status = raw[5:6]
        self.client.sock.sendall(raw)

    def _from_client(self, kind: bytes, raw: bytes) -> None:
        if self._skip_to_sync:  # an extended-protocol statement was refused: drop the rest of it
            if kind == b"S":
                self._skip_to_sync = False
                if self.status == b"T":  # abort the transaction, as the refusing server would
                    self.run("SELECT standin.refuse('42601', 'refused')")
                self.reply(ready(self.status))
            return
        if kind == b"Q":
            answer = self.hooks.on_query(self, query_text(raw))
            if answer is HANDLED:
                return
            if isinstance(answer, str):
                raw = message(b"Q", cstring(answer))
        elif kind == b"P":
            refused = self.hooks.on_parse(self, parse_text(raw))
            if refused is not None:
                self.reply(error_response("42601", refused))
                self._skip_to_sync = True
                return
        self.server.sock.sendall(raw)


def _data_row(raw: bytes) -> list[str | None]:
    count, pos, values = struct.unpack("!H", raw[5:7])[0], 7, []
    for _ in range(count):
        size = struct.unpack("!i", raw[pos:pos + 4])[0]
        pos += 4
        if size < 0:
            values.append(None)
        else:
            values.append(raw[pos:pos + size].decode())
            pos += size
    return values


class Server:
    """Listens on 127.0.0.1 (a free port) and relays each connection in its own thread."""

    def __init__(self, upstream: tuple[str, int], hooks: Hooks) -> None:
        self.upstream = upstream
        self.hooks = hooks
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, name="standin-accept", daemon=True)
        self._stopped = False

    def start(self) -> None:
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            relay = Relay(client, self.upstream, self.hooks)
            threading.Thread(target=relay.serve, name="standin-relay", daemon=True).start()

    def stop(self) -> None:
        self._stopped = True
        self.listener.close()
