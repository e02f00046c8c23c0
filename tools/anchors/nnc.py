#!/usr/bin/env python3
"""NNC anchor for `dfc rd --external`: NNCodec, the reference software of the neural-network
coding standard (ISO/IEC 15938-17), on its tensor-coding path.

    nnc.py INPUT OUTPUT QP [--no-dq]

INPUT is a float32 .npy tensor. It is coded by `nncodec.tensor.encode` with uniform
quantization, quantization parameter QP (NNC's step is 2^(QP/4) at its default qp density,
so QP is an integer such as -40 ... +20 depending on the tensor's range) and dependent
(trellis-coded) quantization unless --no-dq; parameter optimisation and row skipping as
NNCodec's defaults. The bitstream is decoded by `nncodec.tensor.decode`. A vector is coded as
a 1 x N matrix: NNCodec would code a tensor of rank 1 as a non-weight parameter, nearly
losslessly, whatever QP says.

OUTPUT (an existing empty folder) receives the bitstream `stream.nnc`, whose size is the
rate, and the reconstruction `decoded.npy` (the protocol of `dfc rd --external`).

Needs `pip install nncodec` (PyPI; it pulls PyTorch). A missing package is an error that says
so. Importing NNCodec takes about 7 s of CPU, more than coding a tensor: the first call
therefore starts a server that keeps it imported (a Unix socket in the temporary directory,
one forked process per request, gone after 5 idle minutes) and later calls hand their work to
it. DFC_NNC_NO_SERVER=1 codes in the calling process instead. Results are the same either way.
"""

import argparse
import fcntl
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

# One server per version of this script: an edited script gets a server of its own.
_VERSION = os.stat(os.path.abspath(__file__))
SOCKET = os.path.join(
    tempfile.gettempdir(),
    f"dfc-nnc-anchor-{os.getuid()}-{_VERSION.st_mtime_ns:x}-{_VERSION.st_size:x}.sock",
)
IDLE_SECONDS = 300


def parse(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="float32 .npy tensor")
    parser.add_argument("output", help="empty folder for the bitstream and the reconstruction")
    parser.add_argument("qp", type=int, help="NNC quantization parameter (step 2^(QP/4))")
    parser.add_argument("--no-dq", action="store_true", help="without dependent quantization")
    return parser.parse_args(argv)


def code(options):
    """Codes and decodes one tensor; returns an error message or None."""
    import numpy as np
    try:
        from nncodec import tensor as nnc_tensor
    except ImportError as e:
        return f"nnc: cannot import nncodec ({e}); install it with `pip install nncodec`"
    original = np.load(options.input).astype(np.float32)
    # NNCodec codes a tensor of rank 1 as a non-weight parameter, with its own (near lossless)
    # quantization parameter; a vector is therefore given as one row, so that QP applies.
    coded = original.reshape(1, -1) if original.ndim < 2 else original
    with tempfile.TemporaryDirectory(prefix="nnc-anchor-") as work:
        args = {"qp": options.qp, "use_dq": not options.no_dq, "results": work, "verbose": False}
        stream = bytes(nnc_tensor.encode(coded, args=args))
    decoded = np.asarray(nnc_tensor.decode(bytearray(stream)), dtype=np.float32)
    if decoded.size != original.size:
        return f"nnc: decoded {decoded.size} values, the tensor has {original.size}"
    with open(os.path.join(options.output, "stream.nnc"), "wb") as f:
        f.write(stream)
    np.save(os.path.join(options.output, "decoded.npy"), decoded.reshape(original.shape))
    return None


def serve():
    """The server: NNCodec imported once, one forked child per request."""
    import socketserver
    import nncodec.tensor  # noqa: F401  (the import this server exists for)

    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            request = json.loads(self.rfile.readline())
            try:
                error = code(parse(request["argv"]))
            except BaseException as e:  # the child reports every failure to its client
                error = f"nnc: {type(e).__name__}: {e}"
            self.wfile.write((json.dumps({"error": error}) + "\n").encode())

    class Server(socketserver.ForkingMixIn, socketserver.UnixStreamServer):
        timeout = IDLE_SECONDS

        def handle_timeout(self):
            self.idle = True

    try:
        server = Server(SOCKET, Handler)
    except OSError:
        return  # another server is up
    server.idle = False
    with server:
        while not server.idle:
            server.handle_request()
    os.unlink(SOCKET)


def ask_server(argv):
    """Hands the request to the server, starting one if none answers; None if none can be used."""
    with open(SOCKET + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        connection = connect()
        if connection is None:
            if os.path.exists(SOCKET):
                os.unlink(SOCKET)  # left by a server that died
            subprocess.Popen([sys.executable, os.path.abspath(__file__), "--serve"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.time() + 120
            while connection is None and time.time() < deadline:
                time.sleep(0.2)
                connection = connect()
            if connection is None:
                return None
    with connection:
        absolute = [os.path.abspath(a) if i < 2 else a for i, a in enumerate(argv)]
        connection.sendall((json.dumps({"argv": absolute}) + "\n").encode())
        reply = connection.makefile("rb").readline()
    return json.loads(reply) if reply else {"error": "nnc: the server closed the connection"}


def connect():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(SOCKET)
        return s
    except OSError:
        s.close()
        return None


def main():
    if sys.argv[1:] == ["--serve"]:
        serve()
        return
    argv = sys.argv[1:]
    parse(argv)  # usage errors in the caller's process
    reply = None if os.environ.get("DFC_NNC_NO_SERVER") else ask_server(argv)
    error = code(parse(argv)) if reply is None else reply["error"]
    if error:
        sys.exit(error)


if __name__ == "__main__":
    main()
