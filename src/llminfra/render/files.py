"""The rendered-file type and the one Jinja environment every template goes through."""

from __future__ import annotations

import json
from dataclasses import dataclass

import jinja2


class RenderError(ValueError):
    """The model holds something no rendered file can carry safely."""


@dataclass(frozen=True)
class RenderedFile:
    path_on_host: str
    content: str
    mode: str = "0644"
    secret: bool = False

    def __repr__(self) -> str:  # content may hold secrets
        return f"RenderedFile({self.path_on_host!r}, mode={self.mode}, secret={self.secret})"


def compose_value(value: object) -> str:
    """A YAML double-quoted scalar that Compose will not interpolate (`$` -> `$$`)."""
    return json.dumps(str(value).replace("$", "$$"), ensure_ascii=False)


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("llminfra", "templates"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["cv"] = compose_value


def render(template: str, settings: object) -> str:
    """Render `template` with its one typed settings object, exposed as `s`."""
    return _ENV.get_template(template).render(s=settings)
