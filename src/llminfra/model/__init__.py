"""The typed description of the whole platform (`load_stack`) and its parts."""

from .errors import StackError
from .gateway import GatewayHost, GatewayNginx, OneApiSettings
from .gateway_objects import ExternalChannel, Token
from .hosts import GpuHost
from .litellm import LiteLLMSettings
from .load import load_stack, parse_stack
from .mirrors import Mirrors
from .relay import Provider, RelayAccess, RelayHost
from .secrets import Secrets, SecretValue
from .services import OllamaService, OpenAIService, VllmService
from .ssh import SshSettings
from .stack import ChannelSpec, Stack, Tunnel
from .tls import TlsSettings

__all__ = [
    "ChannelSpec", "ExternalChannel", "GatewayHost", "GatewayNginx", "GpuHost", "LiteLLMSettings",
    "Mirrors", "OllamaService", "OneApiSettings", "OpenAIService", "Provider", "RelayAccess", "RelayHost",
    "SecretValue", "Secrets", "SshSettings", "Stack", "StackError", "TlsSettings", "Tunnel",
    "VllmService", "load_stack", "parse_stack",
]
