"""A small exception hierarchy. Every message says what was wrong and what to do."""


class CinerecError(Exception):
    """Base class of every error cinerec raises on purpose."""


class ConfigError(CinerecError):
    """A setting is missing or invalid."""


class DataError(CinerecError):
    """A data file is missing, corrupt or malformed."""


class ModelError(CinerecError):
    """A recommender could not be trained, loaded or used."""


class LLMError(CinerecError):
    """The language model failed, timed out or returned something unusable."""


class ValidationError(CinerecError):
    """User input was rejected; the message is safe to show to the user."""


class NotFoundError(CinerecError):
    """A requested record does not exist."""


class MissingExtraError(CinerecError):
    """An optional dependency is not installed; the message names the pip extra that has it.

    Example:
        >>> str(MissingExtraError("the plot", "evaluation"))
        "the plot needs the 'evaluation' extra: pip install -e '.[evaluation]'"
    """

    def __init__(self, what: str, extra: str) -> None:
        super().__init__(f"{what} needs the '{extra}' extra: pip install -e '.[{extra}]'")
        self.extra = extra
