//! Python peers no one here wrote the framing of: servers and clients in a
//! few lines of the standard library's `socket` and `struct`, each printing
//! `listening on 127.0.0.1:PORT` on stderr as sockcat does.

/// Echoes length-prefixed frames reversed (argv: width, `be`/`le`), until
/// the client closes; one connection.
pub(crate) const LENGTH_REVERSE_SERVER: &str = r#"
import socket, struct, sys
width = int(sys.argv[1])
fmt = ('>' if sys.argv[2] == 'be' else '<') + {1: 'B', 2: 'H', 4: 'I', 8: 'Q'}[width]
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
f = c.makefile('rb')
def read(n):
    b = f.read(n)
    return b if b is not None and len(b) == n else None
while True:
    head = read(width)
    if head is None:
        break
    (n,) = struct.unpack(fmt, head)
    payload = read(n) if n else b''
    if payload is None:
        break
    reply = payload[::-1]
    c.sendall(struct.pack(fmt, len(reply)) + reply)
c.close()
"#;

/// Connects to argv[1] (a port), sends every byte value as frames of
/// width argv[2] and order argv[3] (the values 0..=254 in one, then each
/// value alone), reads as many frames back, and prints `same` when each is
/// what it sent.
pub(crate) const LENGTH_ROUND_TRIP_CLIENT: &str = r#"
import socket, struct, sys
port, width = int(sys.argv[1]), int(sys.argv[2])
fmt = ('>' if sys.argv[3] == 'be' else '<') + {1: 'B', 2: 'H', 4: 'I', 8: 'Q'}[width]
frames = [bytes(range(255))] + [bytes([b]) for b in range(256)] + [b'']
c = socket.create_connection(('127.0.0.1', port))
c.sendall(b''.join(struct.pack(fmt, len(p)) + p for p in frames))
f = c.makefile('rb')
back = []
for _ in frames:
    (n,) = struct.unpack(fmt, f.read(width))
    back.append(f.read(n) if n else b'')
print('same' if back == frames else 'different: %r' % back[:3], flush=True)
c.close()
"#;

/// Sends the bytes given in hex as argv[1], shuts its write side, and
/// waits for the client to close; one connection.
pub(crate) const SEND_BYTES_SERVER: &str = r#"
import socket, sys
data = bytes.fromhex(sys.argv[1])
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
c.sendall(data)
c.shutdown(socket.SHUT_WR)
while c.recv(65536):
    pass
c.close()
"#;

/// Answers each line with `echo: LINE`; one connection.
pub(crate) const LINE_ECHO_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
for line in c.makefile('rb'):
    c.sendall(b'echo: ' + line)
c.close()
"#;

/// Reads to the end of the client's data (its half-close), then answers
/// `got N bytes` and closes; one connection.
pub(crate) const COUNT_AT_EOF_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.sendall(b'got %d bytes\n' % n)
c.close()
"#;

/// Sends 64 KiB blocks until the client goes away; one connection.
pub(crate) const ENDLESS_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
block = b'x' * 65535 + b'\n'
try:
    for _ in range(100000):
        c.sendall(block)
except OSError:
    pass
"#;

/// Echoes each UDP datagram to its sender, up to 1000 of them.
pub(crate) const UDP_ECHO_SERVER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
for _ in range(1000):
    data, addr = s.recvfrom(65536)
    s.sendto(data, addr)
"#;

/// Sends argv[2] as one UDP datagram to port argv[1], then prints the
/// reply it gets.
pub(crate) const UDP_CLIENT: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(30)
s.sendto(sys.argv[2].encode(), ('127.0.0.1', int(sys.argv[1])))
data, _ = s.recvfrom(65536)
print(data.decode(), flush=True)
"#;

/// Resets the connection (`SO_LINGER` 0) as soon as it is accepted.
pub(crate) const RESET_SERVER: &str = r#"
import socket, struct, sys
s = socket.socket()
s.bind(('127.0.0.1', 0))
s.listen(8)
print('listening on 127.0.0.1:%d' % s.getsockname()[1], file=sys.stderr, flush=True)
c, _ = s.accept()
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
c.close()
"#;
