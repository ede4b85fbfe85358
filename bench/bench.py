"""Berth vs CNCF Distribution vs nginx, side by side on loopback (run it through bench/run).

Prints each figure for each server, then the ratios against the targets of SPEC §10, and writes
the results as JSON to bench/results/<timestamp>.json.
"""
import argparse
import asyncio
import concurrent.futures
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import registry_ops as ops  # noqa: E402
import servers  # noqa: E402


def measure_push_pull(server, blob, digest, size, runs):
    push = min(ops.push_blob_file(server.base, f"bench/push{i}", blob, digest) for i in range(runs))
    url = f"{server.base}/v2/bench/push0/blobs/{digest}"
    pull = min(ops.pull_seconds(url, size) for _ in range(runs))
    mib = size / (1 << 20)
    return {"push_mib_s": mib / push, "pull_mib_s": mib / pull}


def measure_manifest_gets(server, seconds):
    ops.push_small_image(server.base, "bench/manifest", "v1")
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{seconds}s", "-H", f"Accept: {ops.MANIFEST_TYPE}",
         f"{server.base}/v2/bench/manifest/manifests/v1"],
        check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {"manifest_get_rps": rps, "manifest_get_errors": int(bad.group(1)) if bad else 0}


def create_tags(server, count):
    manifest = ops.push_small_image(server.base, "bench/tags", "seed")

    def worker(chunk):
        conn = ops.Conn(server.base)
        for i in chunk:
            status, _, body = conn.request("PUT", f"/v2/bench/tags/manifests/tag-{i:05d}", body=manifest,
                                           headers={"Content-Type": ops.MANIFEST_TYPE})
            if status != 201:
                raise RuntimeError(f"tag push answered {status}: {body[:200]}")

    chunks = [range(i, count, 16) for i in range(16)]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(worker, chunks))
    return time.monotonic() - start


def list_all_tags(conn, path):
    tags = []
    while path:
        status, headers, body = conn.request("GET", path)
        if status != 200:
            raise RuntimeError(f"tag list answered {status}")
        tags += json.loads(body)["tags"]
        link = headers.get("link")
        path = re.match(r"<([^>]+)>", link).group(1) if link else None
    return tags


def measure_tags(server, count, runs):
    created = create_tags(server, count)
    conn = ops.Conn(server.base)
    whole, page = [], []
    for _ in range(runs):
        start = time.monotonic()
        tags = list_all_tags(conn, "/v2/bench/tags/tags/list")
        whole.append(time.monotonic() - start)
        if len(tags) != count + 1:
            raise RuntimeError(f"listed {len(tags)} tags, expected {count + 1}")
    middle = f"tag-{count // 2:05d}"
    for _ in range(runs * 4):
        start = time.monotonic()
        status, _, body = conn.request("GET", f"/v2/bench/tags/tags/list?n=100&last={middle}")
        page.append(time.monotonic() - start)
        if status != 200:
            raise RuntimeError(f"page of tags answered {status}")
        returned = len(json.loads(body)["tags"])
    return {"tags_create_s": created, "tags_whole_ms": statistics.median(whole) * 1000,
            "tags_page_ms": statistics.median(page) * 1000, "tags_page_count": returned}


async def one_pull(host, port, path, size):
    start = time.monotonic()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split()[1])
    got = 0
    while chunk := await reader.read(1 << 16):
        got += len(chunk)
    writer.close()
    if status != 200 or got != size:
        raise RuntimeError(f"status {status}, {got} bytes")
    return time.monotonic() - start


async def concurrent_pulls(base, path, size, count):
    host, port = base.removeprefix("http://").split(":")
    results = await asyncio.gather(*(one_pull(host, int(port), path, size) for _ in range(count)),
                                   return_exceptions=True)
    latencies = sorted(r for r in results if isinstance(r, float))
    errors = [r for r in results if not isinstance(r, float)]
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else None  # noqa: E731
    return {"pulls_errors": len(errors), "pulls_p50_ms": q(0.5), "pulls_p99_ms": q(0.99),
            "pulls_first_error": repr(errors[0]) if errors else None}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--berth", required=True, help="path to the berth binary")
    p.add_argument("--blob-mib", type=int, default=256)
    p.add_argument("--small-kib", type=int, default=1024, help="blob size for the concurrent pulls")
    p.add_argument("--tags", type=int, default=10_000)
    p.add_argument("--wrk-seconds", type=int, default=10)
    p.add_argument("--pulls", type=int, default=1000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--s3", action="store_true",
                   help="Berth and Distribution both on one S3 server (moto_server, from pip install 'moto[server]')")
    args = p.parse_args()

    work = tempfile.mkdtemp(prefix="berth-bench-")
    os.chmod(work, 0o755)  # nginx's workers run as an unprivileged user
    www = os.path.join(work, "www")
    os.makedirs(www)
    blob, small = os.path.join(www, "blob"), os.path.join(www, "small")
    with open(blob, "wb") as f:
        for _ in range(args.blob_mib):
            f.write(os.urandom(1 << 20))
    with open(small, "wb") as f:
        f.write(os.urandom(args.small_kib * 1024))
    size, small_size = os.path.getsize(blob), os.path.getsize(small)
    digest, small_digest = ops.sha256_file(blob), ops.sha256_file(small)

    running, results, s3 = [], {}, None
    try:
        if args.s3:
            s3 = servers.start_s3(work)
        s3_url = s3.base if s3 else None
        running.append(servers.start_berth(args.berth, work, s3_url))
        running.append(servers.start_distribution(work, s3_url))
        running.append(servers.start_nginx(work, www))
        for s in running:
            r = results.setdefault(s.name, {})
            print(f"== {s.name}", flush=True)
            try:
                if s.name == "nginx":
                    r["pull_mib_s"] = args.blob_mib / min(ops.pull_seconds(f"{s.base}/blob", size) for _ in range(args.runs))
                    r.update(asyncio.run(concurrent_pulls(s.base, "/small", small_size, args.pulls)))
                else:
                    r.update(measure_push_pull(s, blob, digest, size, args.runs))
                    r.update(measure_manifest_gets(s, args.wrk_seconds))
                    r.update(measure_tags(s, args.tags, args.runs))
                    ops.push_blob_file(s.base, "bench/small", small, small_digest)
                    r.update(asyncio.run(concurrent_pulls(s.base, f"/v2/bench/small/blobs/{small_digest}", small_size, args.pulls)))
            except Exception as e:  # report and go on with the other servers
                r["failed"] = f"{type(e).__name__}: {e}"
            r["peak_rss_mib"] = s.peak_rss_mib()
    finally:
        for s in running + ([s3] if s3 else []):
            s.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)


def fmt(v):
    if v is None:
        return "n/a"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


def report(results, args):
    rows = [("push MiB/s", "push_mib_s"), ("pull MiB/s", "pull_mib_s"),
            ("manifest GET req/s", "manifest_get_rps"), ("manifest GET errors", "manifest_get_errors"),
            (f"create {args.tags} tags s", "tags_create_s"), ("whole tag list ms", "tags_whole_ms"),
            ("page of 100 tags ms", "tags_page_ms"), ("  tags in that page", "tags_page_count"), (f"{args.pulls} concurrent pulls: errors", "pulls_errors"),
            ("  p50 ms", "pulls_p50_ms"), ("  p99 ms", "pulls_p99_ms"), ("peak RSS MiB", "peak_rss_mib")]
    names = ["berth", "distribution", "nginx"]
    if getattr(args, "s3", False):
        print("\nstorage: S3 (moto_server on loopback) for Berth and Distribution; nginx serves the file from disk")
    print(f"\n{'':34}" + "".join(f"{n:>16}" for n in names))
    for label, key in rows:
        print(f"{label:34}" + "".join(f"{fmt(results.get(n, {}).get(key)):>16}" for n in names))
    for n in names:
        if "failed" in results.get(n, {}):
            print(f"{n} failed: {results[n]['failed']}")
    b, d, x = results.get("berth", {}), results.get("distribution", {}), results.get("nginx", {})

    def ratio(a, c):
        return a / c if a and c else None

    checks = [
        ("push Berth/Distribution >= 2", ratio(b.get("push_mib_s"), d.get("push_mib_s")), 2.0),
        ("pull Berth/nginx >= 0.9", ratio(b.get("pull_mib_s"), x.get("pull_mib_s")), 0.9),
        ("pull Berth/Distribution >= 1", ratio(b.get("pull_mib_s"), d.get("pull_mib_s")), 1.0),
        ("manifest GET Berth/Distribution >= 3", ratio(b.get("manifest_get_rps"), d.get("manifest_get_rps")), 3.0),
        ("page of tags Distribution/Berth time >= 3", ratio(d.get("tags_page_ms"), b.get("tags_page_ms")), 3.0),
        ("whole tag list Distribution/Berth time >= 1", ratio(d.get("tags_whole_ms"), b.get("tags_whole_ms")), 1.0),
        ("peak RSS MiB < 200", b.get("peak_rss_mib"), None),
        ("concurrent pulls without error", b.get("pulls_errors"), None),
    ]
    print()
    for label, value, target in checks:
        if label.startswith("peak RSS"):
            ok = value is not None and value < 200
        elif label.startswith("concurrent"):
            ok = value == 0
        else:
            ok = value is not None and value >= target
        print(f"{label:48} {fmt(value):>10}  {'PASS' if ok else 'FAIL'}")
    out_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, time.strftime("%Y%m%dT%H%M%S") + ".json")
    with open(path, "w") as f:
        json.dump({"args": vars(args), "results": results}, f, indent=2)
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
