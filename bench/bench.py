#!/usr/bin/env python3
"""FinCache against redis-server, in one run, on this machine.

Builds the release binary, starts FinCache and redis-server (no persistence) on free ports,
each pinned to CPU 0 with redis-benchmark pinned to CPU 1 (see ../../shared/BENCHMARKING.md),
and runs the same redis-benchmark flags against each, alternating the order every round.
Prints, per workload, the median ops/s of each server, the median of the per-round
FinCache/Redis ratios, p50/p99 latency, and requests per server-CPU-second; then the resident
memory of each server after loading 1,000,000 keys with 16-byte values.

Usage: bench/bench.py [--rounds 6] [--quick] [--only NAME[,NAME]] [--no-build] [--no-pin]
"""

import argparse
import csv
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET_DIR = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
FINCACHE = os.environ.get("FINCACHE_BIN", os.path.join(TARGET_DIR, "release", "fincache"))
FANOUT = os.path.join(TARGET_DIR, "release", "examples", "pubsub_fanout")

# name, redis-benchmark args (besides -p/-n), requests per run (full / quick)
WORKLOADS = [
    ("SET -c50 -P1", ["-t", "set", "-c", "50", "-P", "1", "-d", "64", "-r", "100000"], 150_000),
    ("GET -c50 -P1", ["-t", "get", "-c", "50", "-P", "1", "-d", "64", "-r", "100000"], 150_000),
    ("SET -c50 -P16", ["-t", "set", "-c", "50", "-P", "16", "-d", "64", "-r", "100000"], 700_000),
    ("GET -c50 -P16", ["-t", "get", "-c", "50", "-P", "16", "-d", "64", "-r", "100000"], 800_000),
    ("MSET(10) -c50", ["-t", "mset", "-c", "50", "-P", "1", "-r", "100000"], 70_000),
    ("INCR -c50 -P1", ["-t", "incr", "-c", "50", "-P", "1", "-r", "100000"], 150_000),
    ("GET -c1 latency", ["-t", "get", "-c", "1", "-P", "1", "-d", "64", "-r", "100000"], 15_000),
]

# The sha1 of INCR_SCRIPT, loaded into both servers by preload().
INCR_SCRIPT = "return redis.call('INCR', KEYS[1])"
INCR_SHA = "61636018f4e6b5817b89791bbed242f93fa089e3"

# Collections (issue 3) and scripting (issue 4): each at -P1 and -P16. Custom commands go last;
# __rand_int__ is replaced by redis-benchmark (-r). bench:zr holds 1,000 members, scores 0..999.
COLLECTION_COMMANDS = [
    ("ZADD", ["ZADD", "bench:zset", "__rand_int__", "m:__rand_int__"]),
    ("ZRANGE 0 9", ["ZRANGE", "bench:zr", "0", "9"]),
    ("ZRANGEBYSCORE 10", ["ZRANGEBYSCORE", "bench:zr", "100", "109"]),
    ("LPUSH", ["LPUSH", "bench:list", "__rand_int__"]),
    ("RPOP", ["RPOP", "bench:plist"]),
    ("HSET", ["HSET", "bench:hash", "f:__rand_int__", "v"]),
    ("HGET", ["HGET", "bench:hash", "f:__rand_int__"]),
    ("SADD", ["SADD", "bench:set", "m:__rand_int__"]),
    ("SISMEMBER", ["SISMEMBER", "bench:set", "m:__rand_int__"]),
]
for _name, _cmd in COLLECTION_COMMANDS:
    WORKLOADS.append((f"{_name} -c50 -P1", ["-c", "50", "-P", "1", "-r", "100000"] + _cmd, 120_000))
    WORKLOADS.append((f"{_name} -c50 -P16", ["-c", "50", "-P", "16", "-r", "100000"] + _cmd, 600_000))
WORKLOADS.append(("EVALSHA INCR -c50 -P1",
                  ["-c", "50", "-P", "1", "-r", "100000", "EVALSHA", INCR_SHA, "1", "counter:__rand_int__"],
                  120_000))

MEMORY_KEYS = 1_000_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server on {port} did not start")


class Server:
    def __init__(self, name, argv, port, pin):
        self.name, self.port = name, port
        self.dir = tempfile.TemporaryDirectory()
        prefix = ["taskset", "-c", "0"] if pin else []
        self.proc = subprocess.Popen(prefix + argv, cwd=self.dir.name,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(port, self.proc)

    def cpu_seconds(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def rss_bytes(self):
        with open(f"/proc/{self.proc.pid}/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.dir.cleanup()


def start_fincache(pin):
    port = free_port()
    # The HTTP API on a free port of its own, unthrottled, for bench_http.
    http_port = free_port()
    s = Server("fincache", [FINCACHE, "--port", str(port), "--api-port", str(http_port),
                            "--api-rate-limit", "0"], port, pin)
    s.http_port = http_port
    return s


def start_redis(pin):
    port = free_port()
    return Server("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                            "--save", "", "--appendonly", "no"], port, pin)


def preload(server, keys, value_size):
    """Loads key:%012d keys (redis-benchmark -r naming) with --pipe so GETs hit."""
    value = "x" * value_size
    buf = io.StringIO()
    for i in range(keys):
        k = "key:%012d" % i
        buf.write(f"*3\r\n$3\r\nSET\r\n${len(k)}\r\n{k}\r\n${len(value)}\r\n{value}\r\n")
    # Collections the read workloads use: a 1,000-member sorted set, a hash and a set the HGET and
    # SISMEMBER reads hit, and a long list for RPOP to drain.
    def cmd(*parts):
        buf.write(f"*{len(parts)}\r\n")
        for part in parts:
            buf.write(f"${len(part.encode())}\r\n{part}\r\n")
    for i in range(1000):
        cmd("ZADD", "bench:zr", str(i), "m:%d" % i)
    for i in range(0, 100_000, 100):
        fields = []
        for j in range(i, i + 100):
            fields += ["f:%012d" % j, "v"]
        cmd("HSET", "bench:hash", *fields)
        cmd("SADD", "bench:set", *["m:%012d" % j for j in range(i, i + 100)])
    for i in range(0, 2_000_000, 1000):
        cmd("RPUSH", "bench:plist", *[str(j) for j in range(i, i + 1000)])
    cmd("SCRIPT", "LOAD", INCR_SCRIPT)
    subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=buf.getvalue().encode(),
                   stdout=subprocess.DEVNULL, check=True)


def run_benchmark(server, args, requests, pin):
    prefix = ["taskset", "-c", "1"] if pin else []
    cpu0 = server.cpu_seconds()
    out = subprocess.run(prefix + ["redis-benchmark", "-p", str(server.port), "-n", str(requests),
                                   "--csv", "-q"] + args,
                         capture_output=True, text=True, check=True).stdout
    cpu = server.cpu_seconds() - cpu0
    rows = list(csv.DictReader(io.StringIO(out)))
    if not rows:
        raise RuntimeError(f"no output from redis-benchmark against {server.name}: {out!r}")
    row = rows[0]
    rps = float(row["rps"])
    return {"rps": rps, "p50": float(row["p50_latency_ms"]), "p99": float(row["p99_latency_ms"]),
            "per_cpu_s": (requests / cpu) if cpu > 0 else float("nan")}


def bench_throughput(args, servers):
    results = []
    for name, wl_args, requests in WORKLOADS:
        if args.only and not any(o.lower() in name.lower() for o in args.only):
            continue
        n = max(requests // 10, 2000) if args.quick else requests
        per = {"fincache": [], "redis": []}
        ratios = []
        for rnd in range(args.rounds):
            order = ["fincache", "redis"] if rnd % 2 == 0 else ["redis", "fincache"]
            this = {}
            for who in order:
                this[who] = run_benchmark(servers[who], wl_args, n, args.pin)
                per[who].append(this[who])
            ratios.append(this["fincache"]["rps"] / this["redis"]["rps"])
        med = lambda who, k: statistics.median(r[k] for r in per[who])
        results.append((name, med("fincache", "rps"), med("redis", "rps"), statistics.median(ratios),
                        med("fincache", "p50"), med("redis", "p50"), med("fincache", "p99"),
                        med("redis", "p99"), med("fincache", "per_cpu_s"), med("redis", "per_cpu_s")))
        print(f"  done: {name}", file=sys.stderr)
    return results


# The HTTP API under wrk: route name, wrk Lua script. Keys are the preloaded key:%012d ones.
HTTP_WORKLOADS = [
    ("GET /api/v1/keys/{key}",
     'request = function()\n'
     '  return wrk.format("GET", string.format("/api/v1/keys/key:%012d", math.random(0, 99999)))\n'
     'end\n'),
    ("POST /api/v1/command (GET)",
     'wrk.method = "POST"\n'
     'wrk.headers["Content-Type"] = "application/json"\n'
     'request = function()\n'
     '  local body = string.format(\'{"args":["GET","key:%012d"]}\', math.random(0, 99999))\n'
     '  return wrk.format(nil, "/api/v1/command", nil, body)\n'
     'end\n'),
]


def ensure_wrk():
    """wrk from Debian's package; installed when missing (as root), else None."""
    import shutil
    if shutil.which("wrk") is None and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], stdout=subprocess.DEVNULL)
    return shutil.which("wrk")


def parse_wrk(out):
    """Requests/sec and the 50%/99% latencies (ms) from `wrk --latency` output."""
    def ms(text):
        for unit, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
            if text.endswith(unit):
                return float(text[: -len(unit)]) * factor
        return float("nan")
    rps, p50, p99 = float("nan"), float("nan"), float("nan")
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            rps = float(parts[1])
        elif len(parts) == 2 and parts[0] == "50%":
            p50 = ms(parts[1])
        elif len(parts) == 2 and parts[0] == "99%":
            p99 = ms(parts[1])
    return rps, p50, p99


def bench_http(args, server):
    """Runs each HTTP workload with wrk (1 thread, 50 connections) against FinCache's HTTP
    port, median of the rounds. Returns [(route, req/s, p50 ms, p99 ms)], or None without wrk."""
    wrk = ensure_wrk()
    if wrk is None:
        print("  wrk is missing: no HTTP rows (apt-get install wrk)", file=sys.stderr)
        return None
    seconds = 2 if args.quick else 8
    prefix = ["taskset", "-c", "1"] if args.pin else []
    rows = []
    for name, script in HTTP_WORKLOADS:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
            f.write(script)
            path = f.name
        try:
            runs = []
            for _ in range(max(1, args.rounds // 2)):
                out = subprocess.run(prefix + [wrk, "-t1", "-c50", f"-d{seconds}s", "--latency",
                                               "-s", path, f"http://127.0.0.1:{server.http_port}"],
                                     capture_output=True, text=True, check=True).stdout
                if "Non-2xx" in out:
                    raise RuntimeError(f"wrk saw error responses for {name}:\n{out}")
                runs.append(parse_wrk(out))
        finally:
            os.unlink(path)
        rows.append((name,) + tuple(statistics.median(r[i] for r in runs) for i in range(3)))
        print(f"  done: HTTP {name}", file=sys.stderr)
    return rows


def bench_memory(args):
    rows = []
    keys = MEMORY_KEYS // 10 if args.quick else MEMORY_KEYS
    for start in (start_fincache, start_redis):
        s = start(args.pin)
        try:
            time.sleep(0.3)
            before = s.rss_bytes()
            buf = io.StringIO()
            for i in range(keys):
                k = "k:%014d" % i  # 16 bytes
                v = "v:%014d" % i  # 16 bytes
                buf.write(f"*3\r\n$3\r\nSET\r\n$16\r\n{k}\r\n$16\r\n{v}\r\n")
            subprocess.run(["redis-cli", "-p", str(s.port), "--pipe"], input=buf.getvalue().encode(),
                           stdout=subprocess.DEVNULL, check=True)
            # Both allocators return freed pages lazily; give each the same two seconds.
            time.sleep(2.0)
            after = s.rss_bytes()
            rows.append((s.name, before, after, (after - before) / keys))
        finally:
            s.stop()
    return keys, rows


def pipe_load(server, commands):
    buf = io.StringIO()
    for parts in commands:
        buf.write(f"*{len(parts)}\r\n")
        for part in parts:
            buf.write(f"${len(part.encode())}\r\n{part}\r\n")
    subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], input=buf.getvalue().encode(),
                   stdout=subprocess.DEVNULL, check=True)


def collection_loads(quick):
    """(name, unit, count, command generator): 16-byte members, fields and values."""
    n = 100_000 if quick else 1_000_000
    small = 10_000 if quick else 100_000

    def zset():
        for i in range(0, n, 500):
            args = ["ZADD", "bench:bigz"]
            for j in range(i, i + 500):
                args += [str((j * 7919) % n), "m:%014d" % j]
            yield args

    def bighash():
        for i in range(0, n, 500):
            args = ["HSET", "bench:bigh"]
            for j in range(i, i + 500):
                args += ["f:%014d" % j, "v:%014d" % j]
            yield args

    def smallhashes():
        for i in range(small):
            args = ["HSET", "h:%014d" % i]
            for j in range(10):
                args += ["field:%010d" % j, "v:%014d" % (i * 10 + j)]
            yield args

    return [
        (f"sorted set of {n:,} members", "member", n, zset),
        (f"hash of {n:,} fields", "field", n, bighash),
        (f"{small:,} hashes of 10 fields", "hash", small, smallhashes),
    ]


def bench_collection_memory(args):
    rows = []
    for name, unit, count, gen in collection_loads(args.quick):
        per = {}
        for start in (start_fincache, start_redis):
            s = start(args.pin)
            try:
                time.sleep(0.3)
                before = s.rss_bytes()
                pipe_load(s, gen())
                time.sleep(2.0)
                per[s.name] = (s.rss_bytes() - before) / count
            finally:
                s.stop()
        rows.append((name, unit, per["fincache"], per["redis"]))
    return rows


def bench_pubsub(args):
    """PUBLISH fan-out: deliveries per second to 100 and 1,000 subscribers of one channel
    (examples/pubsub_fanout.rs, pinned to CPU 1), fresh servers, rounds alternating."""
    rows = []
    deliveries = 200_000 if args.quick else 2_000_000
    servers = {"fincache": start_fincache(args.pin), "redis": start_redis(args.pin)}
    prefix = ["taskset", "-c", "1"] if args.pin else []
    try:
        for subs in (100, 1000):
            per = {"fincache": [], "redis": []}
            ratios = []
            for rnd in range(max(1, args.rounds // 2)):
                order = ["fincache", "redis"] if rnd % 2 == 0 else ["redis", "fincache"]
                this = {}
                for who in order:
                    out = subprocess.run(prefix + [FANOUT, str(servers[who].port), str(subs),
                                                   str(deliveries // subs)],
                                         capture_output=True, text=True, check=True).stdout
                    this[who] = float(out.strip())
                    per[who].append(this[who])
                ratios.append(this["fincache"] / this["redis"])
            rows.append((subs, statistics.median(per["fincache"]), statistics.median(per["redis"]),
                         statistics.median(ratios)))
            print(f"  done: PUBLISH fan-out to {subs}", file=sys.stderr)
    finally:
        for s in servers.values():
            s.stop()
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=6)
    p.add_argument("--quick", action="store_true", help="10x fewer requests and keys (smoke run)")
    p.add_argument("--only", type=lambda s: s.split(","), default=None)
    p.add_argument("--no-build", action="store_true")
    p.add_argument("--no-pin", dest="pin", action="store_false")
    p.add_argument("--skip-memory", action="store_true")
    args = p.parse_args()
    if args.pin and os.cpu_count() < 2:
        args.pin = False
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "fincache-server", "--bins",
                        "--example", "pubsub_fanout"], cwd=ROOT, check=True)
    servers = {"fincache": start_fincache(args.pin), "redis": start_redis(args.pin)}
    try:
        for s in servers.values():
            preload(s, 100_000, 64)
        results = bench_throughput(args, servers)
        http_rows = bench_http(args, servers["fincache"])
    finally:
        for s in servers.values():
            s.stop()
    cmdline = "bench/bench.py " + " ".join(sys.argv[1:])
    print(f"\n## Throughput ({cmdline.strip()}; rounds={args.rounds}, pinned={args.pin})\n")
    print("| workload | FinCache ops/s | Redis ops/s | ratio (median of rounds) | p50 ms F/R | p99 ms F/R | req per CPU-s F/R |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for (name, f, r, ratio, f50, r50, f99, r99, fc, rc) in results:
        print(f"| {name} | {f:,.0f} | {r:,.0f} | **{ratio:.2f}x** | {f50:.3f} / {r50:.3f} | "
              f"{f99:.3f} / {r99:.3f} | {fc:,.0f} / {rc:,.0f} |")
    if http_rows:
        resp_get = next((r for r in results if r[0] == "GET -c50 -P1"), None)
        print("\n## HTTP API (wrk -t1 -c50; same FinCache process and run)\n")
        print("| route | HTTP req/s | p50 ms | p99 ms | RESP GET -c50 -P1 ops/s | HTTP/RESP |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, rps, p50, p99 in http_rows:
            resp = f"{resp_get[1]:,.0f}" if resp_get else "n/a"
            ratio = f"{rps / resp_get[1]:.2f}x" if resp_get else "n/a"
            print(f"| {name} | {rps:,.0f} | {p50:.3f} | {p99:.3f} | {resp} | {ratio} |")
    if os.path.exists(FANOUT) and (not args.only or any("publish" in o.lower() for o in args.only)):
        print("\n## PUBLISH fan-out (messages delivered per second; examples/pubsub_fanout.rs)\n")
        print("| subscribers | FinCache deliveries/s | Redis deliveries/s | ratio (median of rounds) |")
        print("|---:|---:|---:|---:|")
        for subs, f, r, ratio in bench_pubsub(args):
            print(f"| {subs:,} | {f:,.0f} | {r:,.0f} | **{ratio:.2f}x** |")
    if not args.skip_memory:
        keys, rows = bench_memory(args)
        print(f"\n## Resident memory after loading {keys:,} keys (16-byte keys and values)\n")
        print("| server | RSS before | RSS after | bytes per key |")
        print("|---|---:|---:|---:|")
        for name, before, after, per in rows:
            print(f"| {name} | {before / 2**20:.1f} MiB | {after / 2**20:.1f} MiB | {per:.1f} |")
        f = next(r for r in rows if r[0] == "fincache")[3]
        r = next(r for r in rows if r[0] == "redis")[3]
        print(f"\nFinCache/Redis memory per key: **{f / r:.2f}x**")
        print("\n## Resident memory of collections (16-byte members, fields and values)\n")
        print("| data | FinCache bytes per item | Redis bytes per item | ratio |")
        print("|---|---:|---:|---:|")
        for name, unit, f, r in bench_collection_memory(args):
            print(f"| {name} | {f:.1f} per {unit} | {r:.1f} per {unit} | **{f / r:.2f}x** |")


if __name__ == "__main__":
    main()
