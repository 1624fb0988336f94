#!/usr/bin/env python3
"""A tiny replicated-by-forwarding key-value store, driven by faultline's exec target.

The node with the lowest id is the leader and holds the only copy of the
data: every other node forwards each operation to it over the link
faultline gives as its peer address (the link that partitions cut). The
leader applies operations one at a time and appends each change to a log
in its data directory, fsynced before it answers, so a kill loses nothing
it acknowledged. It serves faultline's operation protocol:

    POST /op   {"f": "read"|"write"|"cas"|"append"|"txn", "key": ..., "value": ...,
                "local": bool, "workload": ...}
           ->  {"type": "ok"|"fail"|"info", "value": ..., "error": ...}
    GET /health -> 200 once the log is replayed

Run it as faultline does:

    python3 server.py --id n1 --listen 127.0.0.1:7001 --peers n2=127.0.0.1:7002 --data /tmp/n1
"""

import argparse
import http.client
import http.server
import json
import os
import socket
import threading


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--id", required=True)
    p.add_argument("--listen", required=True)
    p.add_argument("--peers", default="")
    p.add_argument("--data", required=True)
    return p.parse_args()


class Store:
    """The leader's state: one value per key, and a durable log of changes."""

    def __init__(self, path):
        self.lock = threading.Lock()
        self.data = {}
        self.path = path
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    try:
                        key, value = json.loads(line)
                    except ValueError:
                        break  # a torn last record: the write never answered
                    self.data[key] = value
        self.log = open(path, "a")

    def persist(self, changes):
        for key, value in changes:
            self.log.write(json.dumps([key, value]) + "\n")
        self.log.flush()
        os.fsync(self.log.fileno())

    def read(self, key, lists):
        v = self.data.get(key)
        if v is None and lists:
            return []
        return v

    def apply(self, req):
        """Apply one operation and return the protocol answer."""
        f, key, value = req["f"], req.get("key", ""), req.get("value")
        lists = req.get("workload") in ("list-append", "txn-list-append")
        with self.lock:
            if f == "read":
                return {"type": "ok", "value": self.read(key, lists)}
            if f == "write":
                changes = [(key, value)]
            elif f == "append":
                changes = [(key, self.data.get(key, []) + [value])]
            elif f == "cas":
                if self.data.get(key) != value[0]:
                    return {"type": "fail", "error": "cas mismatch"}
                changes = [(key, value[1])]
            elif f == "txn":
                # One transaction at a time under the lock: serializable.
                view, out, changes = dict(self.data), [], []
                for mf, mk, mv in value:
                    if mf == "r":
                        v = view.get(mk)
                        out.append([mf, mk, [] if v is None and lists else v])
                        continue
                    view[mk] = view.get(mk, []) + [mv] if mf == "append" else mv
                    changes.append((mk, view[mk]))
                    out.append([mf, mk, mv])
                self.persist(changes)
                self.data = view
                return {"type": "ok", "value": out}
            else:
                return {"type": "fail", "error": "unknown f %r" % f}
            self.persist(changes)
            for k, v in changes:
                self.data[k] = v
            return {"type": "ok", "value": value}


def read_only(req):
    if req["f"] == "read":
        return True
    return req["f"] == "txn" and all(m[0] == "r" for m in req["value"])


def forward(addr, body, req):
    """Send an operation on to the leader and relay its answer."""
    host, port = addr.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=1.0)
    try:
        conn.request("POST", "/op", body, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return json.loads(resp.read())
    except ConnectionRefusedError as e:
        # Nothing reached the leader: the operation certainly did not happen.
        return {"type": "fail", "error": "leader unreachable: %s" % e}
    except (OSError, ValueError, http.client.HTTPException) as e:
        # The leader may have applied it. A read changes nothing, though.
        return {"type": "fail" if read_only(req) else "info", "error": "forwarding: %s" % e}
    finally:
        conn.close()


def main():
    args = parse_args()
    peers = dict(p.split("=", 1) for p in args.peers.split(",") if p)
    leader = min([args.id] + list(peers))
    store = Store(os.path.join(args.data, "log")) if leader == args.id else None

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def answer(self, code, obj):
            b = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(b)))
            self.end_headers()
            self.wfile.write(b)

        def do_GET(self):
            if self.path == "/health":
                self.answer(200, {"ok": True})
            else:
                self.answer(404, {"error": "not found"})

        def do_POST(self):
            if self.path != "/op":
                self.answer(404, {"error": "not found"})
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            req = json.loads(body)
            # Only the leader holds data, so even a "local" final read is
            # the leader's: every node then agrees, as it should.
            if store is not None:
                self.answer(200, store.apply(req))
            else:
                self.answer(200, forward(peers[leader], body, req))

    host, port = args.listen.rsplit(":", 1)
    server = http.server.ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    print("%s listening on %s, leader %s" % (args.id, args.listen, leader), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
