"""docker.daemon_config for real on @local, writing a scratch file instead of /etc/docker."""

from __future__ import annotations

import json

from llminfra.facts.gpu import NVIDIA_RUNTIME
from llminfra.operations import docker


def test_writes_stable_json_and_reports_change_only_once(tmp_path, apply):
    path = str(tmp_path / "docker" / "daemon.json")
    config = {"log-driver": "local", "runtimes": NVIDIA_RUNTIME}
    first = apply(docker.daemon_config, config=config, path=path)
    assert first.did_change()
    assert json.load(open(path)) == config
    assert open(path).read() == json.dumps(config, indent=2, sort_keys=True) + "\n"
    assert not apply(
        docker.daemon_config, config=dict(reversed(config.items())), path=path
    ).did_change()


def test_merge_keeps_what_nvidia_ctk_wrote(tmp_path, apply):
    path = tmp_path / "daemon.json"
    # What `nvidia-ctk runtime configure --runtime=docker` leaves behind.
    path.write_text(json.dumps({"runtimes": NVIDIA_RUNTIME}, indent=4))
    merged = apply(docker.daemon_config, config={"log-driver": "local"}, path=str(path), merge=True)
    assert merged.did_change()
    assert json.loads(path.read_text()) == {"log-driver": "local", "runtimes": NVIDIA_RUNTIME}
    again = apply(docker.daemon_config, config={"log-driver": "local"}, path=str(path), merge=True)
    assert not again.did_change()


def test_private_file_never_readable_by_others(tmp_path, apply):
    from io import StringIO

    from llminfra.operations import private

    path = tmp_path / "project" / "secrets.env"
    first = apply(private.file, path=str(path), src=StringIO("KEY='s3cret'\n"))
    assert first.did_change()
    assert path.read_text() == "KEY='s3cret'\n"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert oct(path.parent.stat().st_mode & 0o777) == "0o700"
    assert not apply(private.file, path=str(path), src=StringIO("KEY='s3cret'\n")).did_change()
    path.chmod(0o644)
    assert apply(private.file, path=str(path), src=StringIO("KEY='s3cret'\n")).did_change()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
