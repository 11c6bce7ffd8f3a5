"""The package as users get it: a built wheel, installed alone, renders from any directory."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventory" / "prod.yml"
PLACEHOLDERS = REPO / "inventory" / "prod.secrets.env.example"


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # as a user builds it: an isolated build env with setuptools from the package index
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out),
                    str(REPO)], check=True, cwd=out)
    [whl] = out.glob("llminfra-*.whl")
    return whl


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A venv that sees the dependencies but gets llminfra only from the wheel."""
    env = tmp_path_factory.mktemp("venv")
    venv.create(env, system_site_packages=True, with_pip=False)
    py = env / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q",
                    "--no-deps", "--force-reinstall", str(wheel)], check=True)
    return env


def test_wheel_holds_templates_and_no_test_doubles(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "llminfra/templates/nginx/gateway.conf.j2" in names
    assert "llminfra/templates/litellm/llminfra_auth.py" in names  # mounted beside config.yaml
    assert "llminfra/py.typed" in names
    assert not [n for n in names if "llminfra_lab" in n or "emulator" in n or "/lab/" in n]


def test_installed_wheel_renders_from_any_directory(installed, tmp_path):
    py = installed / "bin" / "python"
    where = subprocess.run([py, "-c", "import llminfra; print(llminfra.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert where.startswith(str(installed)), f"imported from {where}, not from the wheel"
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    proc = subprocess.run([installed / "bin" / "llminfra", "render", str(INVENTORY), "out",
                           "--secrets-file", str(PLACEHOLDERS)], cwd=cwd, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    rendered = [p for p in (cwd / "out").rglob("*") if p.is_file()]
    assert any(p.name.endswith(".conf") for p in rendered)
    assert any(p.name == "compose.yaml" for p in rendered)


def test_lab_command_without_the_lab_package_says_how_to_get_it(installed, tmp_path):
    # sys.modules[name] = None makes `import llminfra_lab` fail as if it were not installed
    proc = subprocess.run([installed / "bin" / "python", "-c",
                           "import sys; sys.modules['llminfra_lab'] = None;"
                           "from llminfra.cli import main; sys.exit(main(['lab', 'down']))"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "pip install" in proc.stderr and "Traceback" not in proc.stderr


def test_schema_accepts_the_example_and_refuses_an_unknown_key(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "llminfra", "schema"], capture_output=True,
                          text=True, check=True)
    schema = json.loads(proc.stdout)
    # as an editor sees it: YAML dates are strings in JSON Schema terms
    example = json.loads(json.dumps(yaml.safe_load(INVENTORY.read_text()), default=str))
    jsonschema.validate(example, schema)
    example["gpu_hosts"][next(iter(example["gpu_hosts"]))]["colour"] = "blue"
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.validate(example, schema)
