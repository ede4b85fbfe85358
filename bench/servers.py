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


def start_berth(binary, workdir):
    port = free_port()
    data = os.path.join(workdir, "berth")
    os.makedirs(data)
    log = open(os.path.join(workdir, "berth.log"), "w")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data,
         "--database-url", f"sqlite://{data}/berth.db",
         # Distribution runs without authentication here; so does Berth, to compare like with like.
         "--auth", "none"],
        stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base + "/v2/", proc)
    return Server("berth", proc, base, log)


def start_distribution(workdir):
    port = free_port()
    root = os.path.join(workdir, "distribution")
    config = os.path.join(workdir, "distribution.yml")
    with open(config, "w") as f:
        f.write(f"""version: 0.1
log: {{level: info}}
storage:
  filesystem: {{rootdirectory: {root}}}
  delete: {{enabled: true}}
http: {{addr: "127.0.0.1:{port}"}}
""")
    log = open(os.path.join(workdir, "distribution.log"), "w")
    proc = subprocess.Popen(["docker-registry", "serve", config], stdout=log, stderr=log)
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
