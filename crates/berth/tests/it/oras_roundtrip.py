"""Push an artifact and a second one that refers to it with the oras Python SDK, pull both back.

Usage: oras_roundtrip.py HOST:PORT PROJECT/NAME WORKDIR
WORKDIR holds payload.bin and sbom.json; prints a JSON summary on stdout.
"""
import json
import os
import sys

import oras.client
import oras.oci
import requests

host, repo, workdir = sys.argv[1:4]
os.chdir(workdir)
client = oras.client.OrasClient(hostname=host, insecure=True)
client.push(
    target=f"{host}/{repo}:artifact",
    files=["payload.bin:application/vnd.berth.test.payload"],
    manifest_annotations={"purpose": "e2e"},
    quiet=True,
)
accept = "application/vnd.oci.image.manifest.v1+json"
head = requests.head(f"http://{host}/v2/{repo}/manifests/artifact", headers={"Accept": accept}, timeout=30)
head.raise_for_status()
subject = oras.oci.Subject(
    mediaType=head.headers["Content-Type"],
    digest=head.headers["Docker-Content-Digest"],
    size=int(head.headers["Content-Length"]),
)
with open("sbom-config.json", "w") as f:
    f.write("{}")
client.push(
    target=f"{host}/{repo}:sbom",
    files=["sbom.json:application/vnd.berth.test.sbom"],
    manifest_config="sbom-config.json:application/vnd.berth.test.sbom.config",
    subject=subject,
    quiet=True,
)
pulled_artifact = client.pull(target=f"{host}/{repo}:artifact", outdir=os.path.join(workdir, "out-artifact"))
pulled_sbom = client.pull(target=f"{host}/{repo}:sbom", outdir=os.path.join(workdir, "out-sbom"))
print(json.dumps({"subject": subject.digest, "artifact": pulled_artifact, "sbom": pulled_sbom}))
