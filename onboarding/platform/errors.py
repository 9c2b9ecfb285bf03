class PlatformError(Exception):
    """Kafka or the Schema Registry refused or failed an operation.

    ``retryable`` is True when the same call may succeed later (broker down, timeout, 5xx) and
    False when only a change of desired state can help (invalid config, incompatible schema).
    """

    def __init__(self, message: str, *, retryable: bool, code: str = ""):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.code = code

    def __str__(self) -> str:
        return self.message
