"""Registry operations for the benchmark: pushing blobs and manifests the way clients do."""
import hashlib
import http.client
import json
import subprocess
import time
import urllib.parse


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _absolute(base, location):
    return location if location.startswith("http") else base + location


def _with_digest(url, digest):
    return url + ("&" if "?" in url else "?") + "digest=" + urllib.parse.quote(digest)


def curl(*args):
    out = subprocess.run(["curl", "-sS", *args], check=True, capture_output=True, text=True)
    return out.stdout


def push_blob_file(base, repo, path, digest):
    """POST, one streaming PATCH of the whole file, PUT ?digest= (as podman and skopeo do).
    Returns the seconds it took."""
    start = time.monotonic()
    loc = curl("-X", "POST", "-o", "/dev/null", "-w", "%header{location}", f"{base}/v2/{repo}/blobs/uploads/")
    loc = curl("-X", "PATCH", "-T", path, "-H", "Content-Type: application/octet-stream",
               "-o", "/dev/null", "-w", "%header{location}", _absolute(base, loc))
    code = curl("-X", "PUT", "-o", "/dev/null", "-w", "%{http_code}", _with_digest(_absolute(base, loc), digest))
    elapsed = time.monotonic() - start
    if code != "201":
        raise RuntimeError(f"blob push to {base} answered {code}")
    return elapsed


def pull_seconds(url, expected_size):
    out = curl("-o", "/dev/null", "-w", "%{size_download} %{time_total} %{http_code}", url)
    size, seconds, code = out.split()
    if code != "200" or int(size) != expected_size:
        raise RuntimeError(f"pull of {url}: status {code}, {size} bytes")
    return float(seconds)


class Conn:
    """One keep-alive HTTP connection."""

    def __init__(self, base):
        self.host = urllib.parse.urlparse(base).netloc
        self.conn = http.client.HTTPConnection(self.host, timeout=60)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        r = self.conn.getresponse()
        data = r.read()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def push_small_blob(conn, repo, data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    status, headers, _ = conn.request("POST", f"/v2/{repo}/blobs/uploads/")
    loc = urllib.parse.urlparse(headers["location"])
    path = loc.path + ("?" + loc.query if loc.query else "")
    status, _, body = conn.request("PUT", _with_digest(path, digest), body=data,
                                   headers={"Content-Type": "application/octet-stream"})
    if status != 201:
        raise RuntimeError(f"small blob push answered {status}: {body[:200]}")
    return digest, len(data)


MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


def push_small_image(base, repo, tag):
    """A config and one layer, then the manifest under `tag`. Returns the manifest bytes."""
    conn = Conn(base)
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    cfg_digest, cfg_size = push_small_blob(conn, repo, config)
    layer_digest, layer_size = push_small_blob(conn, repo, b"benchmark layer " * 64)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cfg_digest, "size": cfg_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer_size}],
    }).encode()
    status, _, body = conn.request("PUT", f"/v2/{repo}/manifests/{tag}", body=manifest,
                                   headers={"Content-Type": MANIFEST_TYPE})
    if status != 201:
        raise RuntimeError(f"manifest push answered {status}: {body[:200]}")
    return manifest
