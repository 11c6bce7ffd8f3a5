"""llminfra: a declarative deployment kit for a private LLM API platform, built on pyinfra."""

__version__ = "0.1.0"
