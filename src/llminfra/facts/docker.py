"""Facts about the Docker engine's images."""

from __future__ import annotations

from pyinfra.api import FactBase
from typing_extensions import override

from llminfra.commands.docker import image_present


class DockerImage(FactBase[bool]):
    """Whether the engine has ``image`` locally (tag or digest)."""

    @override
    def default(self):
        return False

    @override
    def requires_command(self, image):
        return "docker"

    @override
    def command(self, image):
        return image_present(image)

    @override
    def process(self, output):
        return "present" in [line.strip() for line in output]
