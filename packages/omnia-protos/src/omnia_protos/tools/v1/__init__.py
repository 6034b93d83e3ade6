"""``omnia.tools.v1``: messages in ``tools_pb2``, the service in ``tools_pb2_grpc``."""

from omnia_protos.tools.v1 import tools_pb2, tools_pb2_grpc

__all__ = ["tools_pb2", "tools_pb2_grpc"]
