"""A bounded load test of ``fer-sklearn serve`` on the loopback interface only.

Starts ``python -m fer_sklearn serve`` on 127.0.0.1 (a free port; no other address is
ever used), sends ``--requests`` ``POST /v1/analyze`` of one photo from ``--clients``
concurrent clients (one keep-alive connection each), then stops the server. It stops by
itself: after the requests, or after ``--max-seconds`` whatever is left. Reports
requests/s, p50/p99 latency, errors (any answer but 200, 503 included), and the server's
resident memory: after a warm-up of 50 requests, after the first 10% of the measured
requests, at the end, and its peak (``VmHWM``); flat memory means the last two of the
first three agree within a few MiB. The server's CPU time per request (user and system,
all threads) says what a request costs whatever else the machine runs.

Run::

    python benchmarks/bench_serve.py                        # 2,000 requests, 16 clients
    python benchmarks/bench_serve.py --requests 200 --clients 4

Results: ``benchmarks/results/serve_load.json``. Exits with 1 when any request failed.
"""

import argparse
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
from _results import machine_info, markdown_table, write_results

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"  # the loopback only: this script never talks to another address
BOUNDARY = "fer-sklearn-bench"


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def memory_mib(pid):
    """``VmRSS`` and ``VmHWM`` of a process, in MiB (None once it has exited)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    values = dict(re.findall(r"^(VmRSS|VmHWM):\s+(\d+) kB", text, re.M))
    return {k: int(v) / 1024 for k, v in values.items()}


def cpu_seconds(pid):
    """User plus system CPU time a process has used so far (``/proc/PID/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def upload_body(photo):
    head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="photo"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    return head + Path(photo).read_bytes() + f"\r\n--{BOUNDARY}--\r\n".encode()


class Client(threading.Thread):
    """Sends requests on one keep-alive connection while ``take()`` gives it one to send."""

    def __init__(self, port, body, take):
        super().__init__(daemon=True)
        self.port, self.body, self.take = port, body, take
        self.latencies, self.failures = [], []

    def run(self):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        while self.take():
            start = time.perf_counter()
            try:
                connection.request("POST", "/v1/analyze", body=self.body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200 or not json.loads(answer)["faces"]:
                    self.failures.append(f"{response.status}: {answer[:200]!r}")
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}")
                connection.close()
                connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
            self.latencies.append(time.perf_counter() - start)
        connection.close()


def blast(port, body, n_requests, n_clients, deadline, on_progress=None):
    """Send ``n_requests`` from ``n_clients`` threads; returns latencies, failures, seconds."""
    lock, sent = threading.Lock(), [0]

    def take():
        with lock:
            if sent[0] >= n_requests or time.monotonic() > deadline:
                return False
            sent[0] += 1
            if on_progress is not None:
                on_progress(sent[0])
            return True

    clients = [Client(port, body, take) for _ in range(n_clients)]
    start = time.perf_counter()
    for client in clients:
        client.start()
    for client in clients:
        client.join()
    seconds = time.perf_counter() - start
    return ([t for c in clients for t in c.latencies],
            [f for c in clients for f in c.failures], seconds)


def wait_ready(port, server, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the server did not answer within {timeout} s")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--pretrained", default="fast", help="the shipped model to serve")
    parser.add_argument("--photo", default=str(ROOT / "tests/data/photos/astronaut.jpg"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--queue", type=int, default=32,
                        help="the server's queue: at least --clients, so that none gets 503")
    parser.add_argument("--max-seconds", type=float, default=900)
    parser.add_argument("--out", default=str(ROOT / "benchmarks/results/serve_load.json"))
    args = parser.parse_args(argv)

    machine = machine_info()  # the load average at the start: the machine may be shared
    port = free_port()
    command = [sys.executable, "-m", "fer_sklearn", "serve", "--pretrained", args.pretrained,
               "--host", HOST, "--port", str(port), "--workers", str(args.workers),
               "--queue", str(args.queue)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, server)
        body = upload_body(args.photo)
        blast(port, body, 50, 4, time.monotonic() + 120)  # warm-up, not counted
        warm, cpu_before = memory_mib(server.pid), cpu_seconds(server.pid)
        early = {}

        def on_progress(count):
            if count == max(1, args.requests // 10):
                early.update(memory_mib(server.pid) or {})

        latencies, failures, seconds = blast(port, body, args.requests, args.clients,
                                             time.monotonic() + args.max_seconds, on_progress)
        end, cpu = memory_mib(server.pid), cpu_seconds(server.pid) - cpu_before
    finally:
        server.terminate()
        server.wait(30)

    ms = np.asarray(latencies) * 1000
    result = {
        "server": " ".join(["python", *command[1:]]).replace(str(port), "PORT"),
        "photo": Path(args.photo).name,
        "requests": len(latencies), "clients": args.clients, "errors": len(failures),
        "first_errors": failures[:5], "seconds": round(seconds, 2),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p99_ms": round(float(np.percentile(ms, 99)), 1),
        "server_cpu_ms_per_request": round(1000 * cpu / max(1, len(latencies)), 1),
        "rss_after_warmup_mib": round(warm["VmRSS"], 1),
        "rss_after_10pct_mib": round(early.get("VmRSS", float("nan")), 1),
        "rss_at_end_mib": round(end["VmRSS"], 1),
        "peak_rss_mib": round(end["VmHWM"], 1),
    }
    table = markdown_table([{
        "requests": f"{result['requests']:,}", "clients": str(args.clients),
        "errors": str(result["errors"]), "requests/s": str(result["requests_per_s"]),
        "p50": f"{result['p50_ms']} ms", "p99": f"{result['p99_ms']} ms",
        "server CPU per request": f"{result['server_cpu_ms_per_request']} ms",
        "RSS after warm-up": f"{result['rss_after_warmup_mib']} MiB",
        "RSS at 10%": f"{result['rss_after_10pct_mib']} MiB",
        "RSS at end": f"{result['rss_at_end_mib']} MiB",
        "peak RSS": f"{result['peak_rss_mib']} MiB"}])
    note = (f"{machine['cpu_model']} ({', '.join(machine['isa'])}), {machine['cpu_count']} "
            f"CPUs, load average {machine['load_average']} at the start; server: "
            f"{result['server']}; photo {result['photo']}")
    write_results(args.out, result, table, note, machine)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
