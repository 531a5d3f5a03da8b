#!/usr/bin/env python3
"""Slow readers against a running relay: N clients ask for the demo's big
profile and never read. Prints the relay's RSS (from /proc) while they hang
on, the peak, and the RSS after they are cut off.

    python3 xtask/slow-readers.py PID PORT [CLIENTS] [WATCH_SECONDS]
"""
import os, socket, sys, time

pid, port = int(sys.argv[1]), int(sys.argv[2])
clients = int(sys.argv[3]) if len(sys.argv) > 3 else 100
watch = float(sys.argv[4]) if len(sys.argv) > 4 else 45

def rss_mb():
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024

request = (f"GET /api/profile?customer_user_id=demo-big HTTP/1.1\r\n"
           f"Host: 127.0.0.1:{port}\r\nX-CSRF: 1\r\n\r\n").encode()
idle = rss_mb()
print(f"idle: {idle:.1f} MB")
sockets = []
for _ in range(clients):
    s = socket.socket()
    # A small receive window, as a client that wants the relay to hold the bytes would set.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(request)
    sockets.append(s)
start, peak, closed_at = time.time(), idle, None
while time.time() - start < watch:
    for _ in range(10):
        rss = rss_mb()
        peak = max(peak, rss)
        time.sleep(0.1)
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    print(f"{time.time() - start:5.1f}s rss {rss:6.1f} MB, open files of the relay: {fds}")
print(f"peak: {peak:.1f} MB (idle {idle:.1f} MB), after {watch:.0f}s: {rss_mb():.1f} MB")
