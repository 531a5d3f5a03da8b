#!/usr/bin/env python3
"""A stand-in Adapty in its own process, for xtask/slow-readers.py: every
answer is the same bytes (a saved profile envelope), shared, so that the
RSS measured is the relay's alone.

    python3 xtask/slow-readers-upstream.py PORT PROFILE.json
"""
import sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
body = open(sys.argv[2], "rb").read()
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
