"""Exact-string tests for llminfra.commands.files, .gpu and .docker's small builders."""

from __future__ import annotations

from llminfra.commands import files, gpu, raw
from llminfra.commands.compose import project_dir_create


def test_private_file_create_is_0600_before_content():
    assert raw(files.private_file_create("/opt/my dir/secrets.env")) == (
        "mkdir -p -m 700 '/opt/my dir' && touch '/opt/my dir/secrets.env'"
        " && chmod 600 '/opt/my dir/secrets.env'"
    )
    assert raw(files.private_file_create("top")) == (
        "mkdir -p -m 700 / && touch top && chmod 600 top"
    )


def test_chmod_and_chown():
    assert raw(files.chmod_private("/k")) == "chmod 600 /k"
    # GNU chown reads "user:" as "user and their login group".
    assert raw(files.chown("tunnel", None, "/k", "/k.pub")) == "chown tunnel:'' /k /k.pub"
    assert raw(files.chown(None, "a b", "/k")) == "chown '':'a b' /k"


def test_project_dir_create():
    assert raw(project_dir_create("/opt/llminfra/llm-q")) == "mkdir -p -m 750 /opt/llminfra/llm-q"


def test_nvidia_smi_query():
    assert gpu.nvidia_smi_query() == (
        "nvidia-smi --query-gpu=index,uuid,name,memory.total,memory.used,driver_version,"
        "compute_cap --format=csv,noheader,nounits"
    )


def test_set_owner_changes_only_what_is_given():
    assert raw(files.set_owner("a", "b c", "/k")) == "chown a:'b c' /k"
    assert raw(files.set_owner("a", None, "/k")) == "chown a /k"
    assert raw(files.set_owner(None, "g", "/k")) == "chgrp g /k"
    assert raw(files.chmod("644", "/a b")) == "chmod 644 '/a b'"
    assert raw(files.make_directory("/x")) == "mkdir -p /x"
    assert raw(files.remove("/x")) == "rm -f /x"
