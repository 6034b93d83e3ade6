"""Wire compatibility of our stubs with the reference contract.

Messages built from the generated stubs are serialized and then decoded by a small
descriptor-free protobuf reader, so the field numbers and wire types asserted here
come from the bytes on the wire, not from our own descriptors. The expected numbers
are those of the Go Omnia's contract 1.3.0.
"""

from pathlib import Path
from typing import Any

import pytest
from google.protobuf import descriptor_pb2

from omnia_protos import CONTRACT_VERSION
from omnia_protos.runtime.v1 import runtime_pb2 as rt
from omnia_protos.tools.v1 import tools_pb2 as tl

VARINT, I64, LEN, I32 = 0, 1, 2, 5
PROTO_DIR = Path(__file__).resolve().parent.parent / "proto"


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def decode(data: bytes) -> list[tuple[int, int, Any]]:
    """Decode one message level into (field number, wire type, raw value) triples."""
    fields: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire_type = key >> 3, key & 7
        if wire_type == VARINT:
            value, pos = _varint(data, pos)
        elif wire_type == LEN:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire_type == I32:
            value, pos = data[pos : pos + 4], pos + 4
        elif wire_type == I64:
            value, pos = data[pos : pos + 8], pos + 8
        else:
            raise AssertionError(f"unexpected wire type {wire_type}")
        fields.append((number, wire_type, value))
    return fields


def numbers(message: Any) -> dict[int, int]:
    """Field number -> wire type of everything present in the serialized message."""
    return {number: wire_type for number, wire_type, _ in decode(message.SerializeToString())}


def test_client_message_uses_the_reference_field_numbers() -> None:
    message = rt.ClientMessage(
        session_id="s",
        content="hi",
        metadata={"k": "v"},
        parts=[rt.ContentPart(type="text", text="t")],
        client_tool_result=rt.ClientToolResult(call_id="c", result_json="{}", is_rejected=True, rejection_reason="r"),
        consent_grants=["g"],
        duplex_start=rt.DuplexStart(codec="pcm", sample_rate=16000, channels=1, system_instruction="x"),
        audio_input=rt.AudioInputChunk(data=b"\x01", sequence=3, is_last=True),
    )
    assert numbers(message) == {1: LEN, 2: LEN, 3: LEN, 4: LEN, 5: LEN, 6: LEN, 7: LEN, 8: LEN}
    assert numbers(message.client_tool_result) == {1: LEN, 2: LEN, 3: VARINT, 4: LEN}
    assert numbers(message.duplex_start) == {1: LEN, 2: VARINT, 3: VARINT, 4: LEN}
    assert numbers(message.audio_input) == {1: LEN, 2: VARINT, 3: VARINT}


def test_metadata_map_entries_are_key_1_value_2() -> None:
    entries = [value for number, _, value in decode(rt.ClientMessage(metadata={"a": "b"}).SerializeToString())]
    assert decode(entries[0]) == [(1, LEN, b"a"), (2, LEN, b"b")]


@pytest.mark.parametrize(
    ("field", "payload", "number"),
    [
        ("chunk", rt.Chunk(content="x", role="user"), 1),
        ("tool_call", rt.ToolCall(id="1"), 2),
        ("done", rt.Done(final_content="x"), 4),
        ("error", rt.Error(code="c"), 5),
        ("media_chunk", rt.MediaChunk(media_id="m"), 6),
        ("interruption", rt.Interruption(), 7),
        ("runtime_hello", rt.RuntimeHello(capabilities=["invoke"]), 8),
    ],
)
def test_server_message_oneof_arms_use_the_reference_numbers(field: str, payload: Any, number: int) -> None:
    message = rt.ServerMessage(**{field: payload})
    assert numbers(message) == {number: LEN}


def test_server_message_number_3_stays_reserved() -> None:
    file_proto = descriptor_pb2.FileDescriptorProto.FromString(rt.DESCRIPTOR.serialized_pb)
    (server_message,) = [m for m in file_proto.message_type if m.name == "ServerMessage"]
    assert [(r.start, r.end) for r in server_message.reserved_range] == [(3, 4)]
    assert 3 not in rt.ServerMessage.DESCRIPTOR.fields_by_number


def test_tool_call_and_done_layout() -> None:
    call = rt.ToolCall(
        id="1",
        name="n",
        arguments_json="{}",
        execution=rt.TOOL_EXECUTION_CLIENT,
        consent_message="ok?",
        categories=["c"],
    )
    assert numbers(call) == {1: LEN, 2: LEN, 3: LEN, 4: VARINT, 5: LEN, 6: LEN}
    assert rt.TOOL_EXECUTION_SERVER == 0
    assert rt.TOOL_EXECUTION_CLIENT == 1

    done = rt.Done(
        final_content="x",
        usage=rt.Usage(input_tokens=1, output_tokens=2, cost_usd=0.5),
        parts=[rt.ContentPart(type="image", media=rt.MediaContent(data="d", url="u", mime_type="m", storage_ref="s"))],
    )
    assert numbers(done) == {1: LEN, 2: LEN, 3: LEN}
    # cost_usd is a 32-bit float (wire type I32), as in the reference.
    assert numbers(done.usage) == {1: VARINT, 2: VARINT, 3: I32}
    assert numbers(done.parts[0]) == {1: LEN, 3: LEN}
    assert numbers(done.parts[0].media) == {1: LEN, 2: LEN, 3: LEN, 4: LEN}
    assert numbers(rt.ToolResult(id="1", result_json="{}", is_error=True)) == {1: LEN, 2: LEN, 3: VARINT}


def test_media_and_hello_layout() -> None:
    chunk = rt.MediaChunk(media_id="m", sequence=1, is_last=True, mime_type="audio/pcm", data=b"\x00")
    assert numbers(chunk) == {1: LEN, 2: VARINT, 3: VARINT, 4: LEN, 5: LEN}
    hello = rt.RuntimeHello(
        capabilities=["client_tools"],
        media=rt.MediaNegotiation(codec="pcm", sample_rate=1, channels=1, frame_rate=1, resolution=1),
    )
    assert numbers(hello) == {1: LEN, 2: LEN}
    assert numbers(hello.media) == {1: LEN, 2: VARINT, 3: VARINT, 4: VARINT, 5: VARINT}


def test_unary_messages_layout() -> None:
    assert numbers(rt.InvocationRequest(input_json="{}", invocation_id="i", metadata={"a": "b"})) == {
        1: LEN,
        2: LEN,
        3: LEN,
    }
    response = rt.InvocationResponse(output_json="{}", usage=rt.Usage(input_tokens=1), duration_ms=5, invocation_id="i")
    assert numbers(response) == {1: LEN, 2: LEN, 3: VARINT, 4: LEN}
    health = rt.HealthResponse(healthy=True, status="ok", contract_version="1.3.0", capabilities=["invoke"])
    assert numbers(health) == {1: VARINT, 2: LEN, 3: LEN, 4: LEN}
    assert numbers(rt.HasConversationRequest(session_id="s")) == {1: LEN}
    state = rt.HasConversationResponse(state=rt.RESUME_STATE_NOT_FOUND, detail="d")
    assert decode(state.SerializeToString())[0] == (1, VARINT, 2)
    assert [rt.RESUME_STATE_UNSPECIFIED, rt.RESUME_STATE_RESUMABLE, rt.RESUME_STATE_UNAVAILABLE] == [0, 1, 3]


def test_tools_contract_layout() -> None:
    assert numbers(tl.ToolRequest(tool_name="t", arguments_json="{}", metadata={"a": "b"})) == {1: LEN, 2: LEN, 3: LEN}
    assert numbers(tl.ToolResponse(result_json="{}", is_error=True, error_message="e")) == {1: LEN, 2: VARINT, 3: LEN}
    info = tl.ToolInfo(name="n", description="d", input_schema="{}")
    assert numbers(info) == {1: LEN, 2: LEN, 3: LEN}
    assert numbers(tl.ListToolsResponse(tools=[info])) == {1: LEN}


def test_services_expose_the_reference_methods() -> None:
    runtime = rt.DESCRIPTOR.services_by_name["RuntimeService"]
    assert runtime.full_name == "omnia.runtime.v1.RuntimeService"
    methods = {m.name: (m.client_streaming, m.server_streaming) for m in runtime.methods}
    assert methods == {
        "Converse": (True, True),
        "Invoke": (False, False),
        "Health": (False, False),
        "HasConversation": (False, False),
    }
    tools = tl.DESCRIPTOR.services_by_name["ToolService"]
    assert tools.full_name == "omnia.tools.v1.ToolService"
    assert {m.name for m in tools.methods} == {"Execute", "ListTools"}


def test_contract_version_is_stated_in_the_package_and_the_proto() -> None:
    proto = PROTO_DIR / "omnia_protos" / "runtime" / "v1" / "runtime.proto"
    assert f"Contract-Version: {CONTRACT_VERSION}" in proto.read_text()
    assert CONTRACT_VERSION == "1.3.0"
