"""Configure the Docker engine itself."""

from __future__ import annotations

from io import StringIO

from pyinfra import host
from pyinfra.api import operation

from llminfra.commands.docker import DAEMON_JSON, image_pull
from llminfra.facts import batch
from llminfra.facts.batch import expecting
from llminfra.facts.docker import DockerImage
from llminfra.facts.host import wanted

from .progress import Watched

from .paths import file as put_file


@expecting(lambda path, **_: [wanted(paths=[path])])
@operation()
def daemon_config(content: str, path: str = DAEMON_JSON):
    """
    Keep Docker's ``daemon.json`` holding exactly ``content``.

    + content: the whole file, e.g. ``llminfra.render.render_daemon_json(stack, host).content``
      (the same text ``llminfra render`` writes)
    + path: file to write

    Restart dockerd only when this op changed the file, with pyinfra's ``_if``:

    **Examples:**

    .. code:: python

        from pyinfra.operations import systemd
        from llminfra.operations import docker

        daemon = docker.daemon_config(
            name="Configure dockerd",
            content='{\\n  "log-driver": "local"\\n}\\n',
        )
        systemd.service(
            name="Restart dockerd",
            service="docker",
            restarted=True,
            _if=daemon.did_change,
        )
    """
    commands = list(put_file._inner(path=path, src=StringIO(content), mode="644"))
    if commands:
        yield from commands
    else:
        host.noop(f"{path} is up to date")


@expecting(lambda image, **_: [(DockerImage, {"image": image})])
@operation()
def image(image: str, user_of: str = ""):
    """
    Pull ``image`` unless the engine has it, saying so while it downloads (model server
    images are gigabytes: ``compose up`` would pull them silently).

    + image: the image reference, as the compose file names it
    + user_of: who needs it, named in the progress lines (e.g. the service)

    **Examples:**

    .. code:: python

        docker.image(name="vLLM image", image="vllm/vllm-openai:v0.6.3", user_of="qwen")
    """
    if batch.get(DockerImage, image=image):
        host.noop(f"image {image} is present")
        return
    for_whom = f" for {user_of}" if user_of else ""
    yield Watched(image_pull(image), f"pulling image {image}{for_whom}")
