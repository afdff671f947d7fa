"""The project's own exceptions; each says who raises it."""


class CertregError(Exception):
    """Base class of every error certreg raises on purpose."""


class UsageError(CertregError):
    """Raised by the library when a caller asks for something impossible (unknown number, bad option)."""


class RegistryInvalid(CertregError):
    """Raised by commands that need a valid registry when validation found errors."""

    def __init__(self, report):
        self.report = report
        super().__init__(f"the registry has {report.count('error')} error(s); run `certreg validate`")
