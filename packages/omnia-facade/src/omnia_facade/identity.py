"""Who is on the other end of a connection, as admitted by the auth chain."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Identity:
    """The admitted caller. ``origin`` names the validator that admitted it (api-key, oidc, anonymous)."""

    origin: str
    subject: str = ""
    email: str = ""
    claims: dict[str, str] = field(default_factory=dict)


ANONYMOUS = Identity(origin="anonymous")
