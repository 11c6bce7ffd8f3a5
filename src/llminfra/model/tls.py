"""TLS for the gateway and relay Nginx sites."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .base import Strict
from .types import Email, LocalPath


class TlsSettings(Strict):
    mode: Literal["self_signed", "files", "acme"] = Field(
        "self_signed", description="`self_signed` (labs), `files` (bring cert+key), "
        "`acme` (certbot, HTTP-01 on port 80)."
    )
    cert_file: LocalPath | None = Field(
        None, description="`files`: certificate chain (PEM, server certificate first) on the "
        "operator's machine. `check` refuses it expired, not yet valid or not covering every "
        "server name of the host in its subjectAltName, and warns 14 days before expiry.")
    key_file: LocalPath | None = Field(
        None, description="`files`: the certificate's private key (PEM, unencrypted, mode 0600) "
        "on the operator's machine.")
    acme_email: Email | None = Field(None, description="`acme`: account e-mail.")

    @model_validator(mode="after")
    def _needs(self) -> TlsSettings:
        if self.mode == "files" and not (self.cert_file and self.key_file):
            raise ValueError("mode 'files' needs cert_file and key_file")
        if self.mode == "acme" and not self.acme_email:
            raise ValueError("mode 'acme' needs acme_email")
        return self
