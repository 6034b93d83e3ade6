"""``start_span``: a real span once a tracer provider is installed, a shared do-nothing one before.

Run in a fresh interpreter: the OpenTelemetry tracer provider is set once per process, and other tests install one.
"""

import subprocess
import sys

SCRIPT = """
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from omnia_runtime.tracing import start_span, tracing_on

assert not tracing_on()
with start_span("omnia.runtime.conversation.turn", attributes={"session.id": "s"}) as span:
    assert not span.is_recording()
    assert trace.get_current_span() is trace.INVALID_SPAN  # no context was attached
    span.set_attribute("ignored", 1)

trace.set_tracer_provider(TracerProvider())
assert tracing_on()
with start_span("omnia.runtime.conversation.turn", attributes={"session.id": "s"}) as span:
    assert span.is_recording()
    assert trace.get_current_span() is span
    assert span.attributes["session.id"] == "s"
print("ok")
"""


def test_spans_are_free_until_a_tracer_provider_is_installed_and_real_after() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
