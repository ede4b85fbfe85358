"""Starting and stopping the servers the benchmark compares, each on a free loopback port."""
import os
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


class Server:
    def __init__(self, name, proc, base, log):
        self.name, self.proc, self.base, self.log = name, proc, base, log

    def peak_rss_mib(self):
        """VmHWM: the peak resident set size of the server process."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            pass
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


S3_KEY, S3_SECRET = "bench", "bench-secret"


def start_s3(workdir):
    """An S3 server (moto, in memory) with one bucket for each registry. Returns its URL."""
    import boto3  # installed with moto
    port = free_port()
    log = open(os.path.join(workdir, "moto.log"), "w")
    proc = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/", proc)
    s3 = boto3.client("s3", endpoint_url=url, aws_access_key_id=S3_KEY,
                      aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    for bucket in ("berth-bench", "dist-bench"):
        s3.create_bucket(Bucket=bucket)
    return Server("moto", proc, url, log)


def start_berth(binary, workdir, s3_url=None):
    port = free_port()
    data = os.path.join(workdir, "berth")
    os.makedirs(data)
    log = open(os.path.join(workdir, "berth.log"), "w")
    args = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
            "--database-url", f"sqlite://{data}/berth.db",
            # Distribution runs without authentication here; so does Berth, to compare like with like.
            "--auth", "none"]
    env = dict(os.environ)
    if s3_url:
        config = os.path.join(workdir, "berth.yaml")
        with open(config, "w") as f:
            f.write(f"storage: {{s3: {{bucket: berth-bench, region: us-east-1, regionEndpoint: '{s3_url}'}}}}\n")
        args += ["--config", config]
        env.update(REGISTRY_STORAGE_S3_ACCESSKEY=S3_KEY, REGISTRY_STORAGE_S3_SECRETKEY=S3_SECRET)
    proc = subprocess.Popen(args, stdout=log, stderr=log, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/v2/", proc)
    return Server("berth", proc, base, log)


def start_distribution(workdir, s3_url=None):
    port = free_port()
    root = os.path.join(workdir, "distribution")
    config = os.path.join(workdir, "distribution.yml")
    if s3_url:
        backend = (f"s3: {{accesskey: {S3_KEY}, secretkey: {S3_SECRET}, region: us-east-1, "
                   f"regionendpoint: '{s3_url}', bucket: dist-bench, secure: false, v4auth: true}}")
    else:
        backend = f"filesystem: {{rootdirectory: {root}}}"
    with open(config, "w") as f:
        f.write(f"""version: 0.1
log: {{level: info}}
storage:
  {backend}
  delete: {{enabled: true}}
  # Pulls go through the registry, as Berth's do by default (both can redirect to S3 instead).
  redirect: {{disable: true}}
http: {{addr: "127.0.0.1:{port}"}}
""")
    log = open(os.path.join(workdir, "distribution.log"), "w")
    # Distribution's AWS SDK refuses a custom CA bundle with its own HTTP transport.
    env = {k: v for k, v in os.environ.items() if k != "AWS_CA_BUNDLE"}
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log, env=env)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/v2/", proc)
    return Server("distribution", proc, base, log)


def start_nginx(workdir, www):
    port = free_port()
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""daemon off; worker_processes 1; pid {workdir}/nginx.pid; error_log {workdir}/nginx.err;
events {{ worker_connections 4096; }}
http {{ access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;
  server {{ listen 127.0.0.1:{port} backlog=4096; root {www}; location / {{ }} }} }}
""")
    log = open(os.path.join(workdir, "nginx.log"), "w")
    proc = subprocess.Popen(["nginx", "-c", conf], stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/small", proc)
    return Server("nginx", proc, base, log)
