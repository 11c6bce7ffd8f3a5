"""docker.daemon_config for real on @local, writing a scratch file instead of /etc/docker."""

from __future__ import annotations

from llminfra.operations import docker

CONTENT = '{\n  "log-driver": "local"\n}\n'


def test_writes_the_rendered_text_and_reports_change_only_once(tmp_path, apply):
    path = tmp_path / "docker" / "daemon.json"
    first = apply(docker.daemon_config, content=CONTENT, path=str(path))
    assert first.did_change()
    assert path.read_text() == CONTENT
    assert oct(path.stat().st_mode & 0o777) == "0o644"
    assert not apply(docker.daemon_config, content=CONTENT, path=str(path)).did_change()
    path.write_text('{"log-driver": "local"}')  # same settings, other text: rewritten
    assert apply(docker.daemon_config, content=CONTENT, path=str(path)).did_change()
    assert path.read_text() == CONTENT


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
