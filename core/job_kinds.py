"""Job kinds, registered by the app that runs them, so core never lists another app's work.

The value is what ``Job.kind`` stores: once rows exist it never changes. An app registers its kinds in a module
its AppConfig.ready() imports, so every kind is known before a form or the schema reads the choices.
"""

_KINDS: dict[str, str] = {}


def register_job_kind(value: str, label: str) -> str:
    """Register ``value`` (at most 32 characters) with its label for people; returns ``value``.

    Raises ValueError when ``value`` is already registered with another label (two apps claiming one kind)."""
    if len(value) > 32:
        raise ValueError(f"job kind {value!r} is longer than Job.kind allows (32)")
    if _KINDS.setdefault(value, label) != label:
        raise ValueError(f"job kind {value!r} is already registered as {_KINDS[value]!r}")
    return value


def job_kind_choices() -> list[tuple[str, str]]:
    """The registered kinds as field choices, in registration order."""
    return list(_KINDS.items())
