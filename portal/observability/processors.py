"""A span processor that can be switched: imported only once tracing is being set up (it needs the SDK)."""

from __future__ import annotations

from opentelemetry.sdk.trace import SpanProcessor


class SwitchableProcessor(SpanProcessor):
    """The provider's one processor, delegating to the exporting processor of the current set-up (or none)."""

    def __init__(self):
        self.inner: SpanProcessor | None = None

    def switch_to(self, processor: SpanProcessor | None) -> None:
        previous, self.inner = self.inner, processor
        if previous is not None:
            previous.shutdown()

    def on_start(self, span, parent_context=None):
        if self.inner is not None:
            self.inner.on_start(span, parent_context=parent_context)

    def on_end(self, span):
        if self.inner is not None:
            self.inner.on_end(span)

    def shutdown(self):
        self.switch_to(None)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis) if self.inner is not None else True
