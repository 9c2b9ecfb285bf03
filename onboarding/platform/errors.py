class PlatformError(Exception):
    """Kafka or the Schema Registry refused or failed an operation.

    ``retryable`` is True when the same call may succeed later (broker down, timeout, 5xx) and
    False when only a change of desired state can help (invalid config, incompatible schema).
    ``code`` is machine-readable (a Kafka error name, a registry error code).
    """

    def __init__(self, message: str, *, retryable: bool, code: str = "", detail: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code
        # The service's own words, without our framing, for callers that rephrase the error.
        self.detail = detail or message

    def __str__(self) -> str:
        return self.message
