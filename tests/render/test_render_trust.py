"""Extra CA certificates for OneAPI: a public bundle, mounted beside the system CAs."""

import subprocess

import yaml
from render_helpers import compose_binary, make_stack, self_signed

from llminfra.render import gateway_files, render_oneapi_compose, trust_bundle


def test_trust_bundle_is_mounted_and_labelled(data, tmp_path):
    cert, _ = self_signed(tmp_path, "private-ca")
    data["gateways"]["gw-1"]["oneapi"]["trust_ca_files"] = [str(cert)]
    stack = make_stack(data)
    bundle = trust_bundle(stack, "gw-1")
    assert bundle.path_on_host == "/opt/llminfra/oneapi/trust/extra-ca.pem"
    assert (bundle.mode, bundle.secret) == ("0644", False)
    assert bundle.content == cert.read_text().strip() + "\n"
    spec = yaml.safe_load(render_oneapi_compose(stack, "gw-1").content)["services"]["oneapi"]
    assert ("/opt/llminfra/oneapi/trust/extra-ca.pem:/etc/ssl/certs/llminfra-extra-ca.pem:ro"
            in spec["volumes"])
    first = spec["labels"]["llminfra.trust-sha256"]
    assert bundle in gateway_files(stack, "gw-1")
    # a changed CA changes the compose file, so compose.project recreates the container
    other, _ = self_signed(tmp_path / "b", "other-ca")
    data["gateways"]["gw-1"]["oneapi"]["trust_ca_files"] = [str(other)]
    spec = yaml.safe_load(render_oneapi_compose(make_stack(data), "gw-1").content)
    assert spec["services"]["oneapi"]["labels"]["llminfra.trust-sha256"] != first


def test_compose_with_trust_bundle_passes_compose_config(data, tmp_path):
    cert, _ = self_signed(tmp_path, "private-ca")
    data["gateways"]["gw-1"]["oneapi"]["trust_ca_files"] = [str(cert)]
    compose = tmp_path / "compose.yaml"
    compose.write_text(render_oneapi_compose(make_stack(data), "gw-1").content)
    (tmp_path / "secrets.env").write_text("SESSION_SECRET=x\n")
    proc = subprocess.run([compose_binary(), "-f", str(compose), "config", "-q"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_no_trust_files_no_mount(prod):
    assert trust_bundle(prod, "gw-1") is None
    spec = yaml.safe_load(render_oneapi_compose(prod, "gw-1").content)["services"]["oneapi"]
    assert "labels" not in spec
