"""autossh tunnel units on the gateway."""

import subprocess

import pytest

from render_helpers import make_stack, require

from llminfra.render import render_known_hosts, render_tunnel_unit
from llminfra.render.tunnel_unit import systemd_word


def verify(unit_dir, f) -> subprocess.CompletedProcess:
    path = unit_dir / f.path_on_host.rsplit("/", 1)[1]
    path.write_text(f.content)
    return subprocess.run([require("systemd-analyze"), "verify", str(path)],
                          capture_output=True, text=True)


def test_every_unit_passes_systemd_analyze_verify(variant, tmp_path):
    require("autossh")  # ExecStart's binary must exist for verify to pass
    tunnels = variant.tunnels()
    assert tunnels
    for t in tunnels:
        result = verify(tmp_path, render_tunnel_unit(variant, t))
        assert result.returncode == 0, result.stderr
        assert "Unknown" not in result.stderr, result.stderr


def test_verify_catches_a_broken_unit(prod, tmp_path):
    f = render_tunnel_unit(prod, prod.tunnels()[0])
    broken = type(f)(f.path_on_host, f.content.replace("/usr/bin/autossh", "/usr/bin/no-such-autossh"))
    assert verify(tmp_path, broken).returncode != 0


def test_unit_runs_hardened_autossh(prod):
    f = render_tunnel_unit(prod, prod.tunnels()[0])
    assert f.path_on_host == "/etc/systemd/system/llminfra-tunnel-gpu-2-ollama.service"
    lines = f.content.splitlines()
    assert ("ExecStart=/usr/bin/autossh -M 0 -N -o ExitOnForwardFailure=yes "
            "-o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o StrictHostKeyChecking=yes "
            "-o UserKnownHostsFile=/etc/llminfra/tunnel/known_hosts.gpu-2 -o IdentitiesOnly=yes "
            "-i /etc/llminfra/tunnel/id_ed25519 -L 172.30.0.1:20732:127.0.0.1:11434 "
            "-p 2222 llminfra-tunnel@198.51.100.20") in lines
    for line in ("Restart=always", "RestartSec=5", "User=llminfra-tunnel",
                 "Environment=AUTOSSH_GATETIME=0", "Wants=network-online.target",
                 "After=network-online.target docker.service", "WantedBy=multi-user.target"):
        assert line in lines


def test_tunnel_user_and_port_follow_the_model(data):
    data["gateways"]["gw-1"]["tunnel_user"] = "tun"
    data["gateways"]["gw-1"]["tunnel_port_base"] = 31000
    stack = make_stack(data)
    content = render_tunnel_unit(stack, stack.tunnels()[0]).content
    assert " -L 172.30.0.1:31732:127.0.0.1:11434 -p 2222 tun@198.51.100.20\n" in content


def test_known_hosts_pins_the_declared_key(prod):
    f = render_known_hosts(prod, "gpu-2")
    assert f.path_on_host == "/etc/llminfra/tunnel/known_hosts.gpu-2"
    assert f.content == ("[198.51.100.20]:2222 ssh-ed25519 "
                         "AAAAC3NzaC1lZDI1NTE5AAAAIGxsbWluZnJhLXBsYWNlaG9sZGVyLWhvc3Qta2V5LTAy\n")


def test_known_hosts_file_is_copied(data, tmp_path):
    # Without a file or a key the model refuses the stack (tests/model/test_errors.py).
    known = tmp_path / "known_hosts"
    known.write_text("[198.51.100.20]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHRlc3QtaG9zdC1rZXktMTAwMDAwMDAwMDAwMDAwMDAw\n")
    data["gpu_hosts"]["gpu-2"]["ssh"].update(host_key=None, known_hosts=str(known))
    assert render_known_hosts(make_stack(data), "gpu-2").content == known.read_text()


def test_systemd_words_escape_specifiers_and_spaces():
    assert systemd_word("/a/b") == "/a/b"
    assert systemd_word("50%") == "50%%"
    assert systemd_word('a b"$c') == '"a b\\"$$c"'


@pytest.mark.parametrize(("bind", "target"), [
    ("0.0.0.0", "127.0.0.1:11434"), ("::", "[::1]:11434"), ("127.0.0.1", "127.0.0.1:11434"),
    ("::1", "[::1]:11434"), ("10.20.0.7", "10.20.0.7:11434"), ("fd00::7", "[fd00::7]:11434"),
])  # fmt: skip
def test_autossh_target_is_what_the_gpu_side_permits(data, bind, target):
    # sshd compares the forward's target with permitopen as written: both halves must agree.
    from llminfra.deploys.tunnels import permitted_targets

    data["gpu_hosts"]["gpu-2"]["services"][0]["bind"] = bind
    if bind in ("0.0.0.0", "::"):  # published on every address without a key: opted in
        data["gpu_hosts"]["gpu-2"]["allow_risky"] = ["public_model_port"]
    stack = make_stack(data)
    assert permitted_targets(stack, "gpu-2") == [target]
    content = render_tunnel_unit(stack, stack.tunnels()[0]).content
    assert f" -L 172.30.0.1:20732:{target} -p 2222 " in content
