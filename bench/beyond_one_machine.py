"""Beyond one machine: the pilot built locally, through a remote cache, and on Dask.

Starts a real nginx (Bazel's HTTP cache protocol) and a real Dask scheduler with
workers on 127.0.0.1, as the README shows, and builds a copy of the bundled pilot
(every deliverable) with `reel build` in these ways, each from an empty local cache:

    local                the build alone, no remote cache (the baseline)
    local + upload       the same, sending every result to an empty remote cache
    second machine       another checkout, the remote cache now full
    dask                 N workers, an empty remote cache (every action on a worker)
    dask, cache warm     N workers, the remote cache full (nothing to run)

and prints, side by side, the wall time of each command, the actions that ran and
were cached, where they ran, and the ratio to the local build. Prints figures;
asserts nothing. Every worker runs on this machine, so the Dask figures measure
the cost of shipping actions, not a speed-up: on a farm, each worker adds cores.

    python bench/beyond_one_machine.py [--workers 2] [--keep DIR] [--json FILE]

Needs nginx (apt-get install nginx) and `pip install -e '.[dask]'`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PILOT = REPO / "examples" / "pilot"
sys.path.insert(0, str(REPO / "tests"))

from servers import Cluster, nginx_exe, start_cluster, start_nginx  # noqa: E402


@dataclass
class Row:
    scenario: str
    seconds: float
    ran: int
    cached: int
    where: str


def build(work: Path, name: str, *extra: str) -> tuple[float, dict]:
    """`reel build` of a fresh copy of the pilot with its own empty cache."""
    checkout = work / name
    shutil.copytree(PILOT, checkout / "pilot")
    args = ["build", "pilot", "--cache-dir", "cache", "-q", *extra]
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "reel.cli", *args],
        cwd=checkout,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"reel build ({name}) failed:\n{proc.stderr}")
    summary = json.loads((checkout / "reel-out" / "pilot" / "run_summary.json").read_text())
    return seconds, summary


def row(scenario: str, seconds: float, summary: dict) -> Row:
    ran = summary["ran"]  # the voices included
    where = Counter(r.get("on", "local") for r in ran)
    return Row(
        scenario,
        seconds,
        len(ran),
        summary["actions"]["cached"],
        ", ".join(f"{name} {count}" for name, count in sorted(where.items())) or "-",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, help="work here and keep it (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    exe = nginx_exe()
    if exe is None:
        raise SystemExit("nginx is not installed (apt-get install nginx)")
    work = args.keep or Path(tempfile.mkdtemp(prefix="reel-bench-distributed-"))
    work.mkdir(parents=True, exist_ok=True)
    servers: list = []
    rows: list[Row] = []
    try:
        seconds, summary = build(work, "local")
        rows.append(row("local", seconds, summary))
        print(f"local: {seconds:.1f} s", file=sys.stderr)

        cache = start_nginx(exe, work / "server-1")
        servers.append(cache)
        remote = ("--remote-cache", cache.url)
        seconds, summary = build(work, "upload", *remote)
        rows.append(row("local + upload", seconds, summary))
        seconds, summary = build(work, "second", *remote)
        rows.append(row("second machine", seconds, summary))
        print("remote cache: done", file=sys.stderr)

        fresh = start_nginx(exe, work / "server-2")
        servers.append(fresh)
        cluster: Cluster = start_cluster(work / "dask", workers=args.workers)
        servers.append(cluster)
        dask = ("--executor", cluster.executor, "--remote-cache", fresh.url)
        seconds, summary = build(work, "dask", *dask)
        rows.append(row(f"dask ({args.workers} workers)", seconds, summary))
        seconds, summary = build(work, "dask-warm", *dask)
        rows.append(row("dask, cache warm", seconds, summary))
    finally:
        for server in reversed(servers):
            server.stop()
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)

    base = rows[0].seconds
    print(f"\nThe pilot, every deliverable, from an empty local cache ({args.workers} workers)")
    print(f"{'scenario':<22} {'wall':>8} {'x local':>8} {'ran':>5} {'cached':>7}  where")
    for r in rows:
        print(
            f"{r.scenario:<22} {r.seconds:>7.1f}s {r.seconds / base:>8.2f} {r.ran:>5} "
            f"{r.cached:>7}  {r.where}"
        )
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
