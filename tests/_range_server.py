"""A static file server answering byte-range requests, as a web server or object store does.

Run as ``python _range_server.py FOLDER``: serves FOLDER on 127.0.0.1 at a free port, prints
the port on its first line of output and serves until killed. It runs in its own process: GDAL
may hold the interpreter lock while it waits for an answer, so a server thread in the process
that reads would deadlock.
"""

from __future__ import annotations

import http.server
import re
import sys
from functools import partial
from pathlib import Path


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Static files, ``Range: bytes=a-b`` answered with 206 partial content."""

    def send_head(self):  # type: ignore[no-untyped-def]
        path = Path(self.translate_path(self.path))
        match = re.match(r"bytes=(\d+)-(\d*)", self.headers.get("Range") or "")
        if not match or not path.is_file():
            return super().send_head()
        size = path.stat().st_size
        first = int(match.group(1))
        last = min(int(match.group(2) or size - 1), size - 1)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {first}-{last}/{size}")
        self.send_header("Content-Length", str(last - first + 1))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with path.open("rb") as fh:
            fh.seek(first)
            self.wfile.write(fh.read(last - first + 1))
        return None

    def log_message(self, format: str, *args: object) -> None:
        if args and str(args[0]).startswith("GET"):
            print(self.headers.get("Range") or "whole", file=sys.stderr, flush=True)


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeHandler, directory=sys.argv[1]))
    print(server.server_address[1], flush=True)
    server.serve_forever()
