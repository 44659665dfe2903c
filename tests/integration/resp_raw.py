"""A raw RESP connection for tests that assert exact bytes: error
strings, RESP3 shapes, push messages, and whether the server closed the
connection.  redis-py hides all of these."""
import socket
import time


class RespConn:
    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port),
                                             timeout=timeout)
        self.buf = b""

    def close(self):
        self.sock.close()

    def send(self, data):
        self.sock.sendall(data)

    def cmd(self, *args):
        """Sends one multibulk request and returns its raw reply."""
        self.send(encode(*args))
        return self.reply()

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed by the server; buffered %r"
                                  % self.buf[:200])
        self.buf += chunk

    def _line(self, pos):
        while True:
            end = self.buf.find(b"\r\n", pos)
            if end >= 0:
                return end
            self._fill()

    def _frame(self, pos):
        """The end offset of the frame starting at pos."""
        while len(self.buf) <= pos:
            self._fill()
        kind = self.buf[pos:pos + 1]
        end = self._line(pos)
        head = self.buf[pos + 1:end]
        pos = end + 2
        if kind in b"+-:,_#(":
            return pos
        if kind in b"$=!":
            n = int(head)
            if n < 0:
                return pos
            while len(self.buf) < pos + n + 2:
                self._fill()
            return pos + n + 2
        if kind in b"*~>%|":
            n = int(head)
            if kind in b"%|" and n > 0:
                n *= 2
            for _ in range(max(n, 0)):
                pos = self._frame(pos)
            if kind == b"|":
                pos = self._frame(pos)
            return pos
        raise AssertionError("not RESP: %r" % self.buf[pos - 1 - len(head):
                                                      pos + 40])

    def reply(self):
        """The raw bytes of the next complete reply."""
        end = self._frame(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def read(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def expect(self, data):
        """Reads exactly len(data) bytes and returns them."""
        return self.read(len(data))

    def is_closed(self, timeout=5.0):
        """True once the server closes the connection (reading and
        dropping whatever comes before the end)."""
        self.sock.settimeout(timeout)
        deadline = time.time() + timeout
        try:
            while time.time() < deadline:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        return False

    def nothing_pending(self, wait=0.2):
        """True if the server sends nothing within `wait` seconds."""
        self.sock.settimeout(wait)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return not self.buf
        finally:
            self.sock.settimeout(10.0)
        self.buf += chunk
        return False


def encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a)
        if isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def bulk(s):
    if isinstance(s, str):
        s = s.encode()
    return b"$%d\r\n%s\r\n" % (len(s), s)
