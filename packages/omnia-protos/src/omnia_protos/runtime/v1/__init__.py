"""``omnia.runtime.v1``: messages in ``runtime_pb2``, the service in ``runtime_pb2_grpc``."""

from omnia_protos.runtime.v1 import runtime_pb2, runtime_pb2_grpc

__all__ = ["runtime_pb2", "runtime_pb2_grpc"]
