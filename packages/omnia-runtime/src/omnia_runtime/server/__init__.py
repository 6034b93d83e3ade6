"""The serving side: the ``omnia.runtime.v1`` gRPC service, the health/metrics HTTP server, start-up wiring."""
