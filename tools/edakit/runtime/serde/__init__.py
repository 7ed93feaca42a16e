"""Schemas in the message path: producers encode and check against the channel's event schemas, consumers decode
and check, and a payload that cannot be read is a poison message (codec.py has the wire forms)."""

from edakit.runtime.serde.codec import (AVRO_CONTENT_TYPE, CONFLUENT_JSON_CONTENT_TYPE, SCHEMA_ID_HEADER,
                                        SCHEMA_VERSION_HEADER, WIRES, ChannelCodec, Decoded, EventSchema,
                                        InvalidPayload, PoisonMessage, SerdeError, Serializer, event_schema)
from edakit.runtime.serde.spec import channel_codec, default_wire, registry_client, serializer

__all__ = ["AVRO_CONTENT_TYPE", "CONFLUENT_JSON_CONTENT_TYPE", "SCHEMA_ID_HEADER", "SCHEMA_VERSION_HEADER", "WIRES",
           "ChannelCodec", "Decoded", "EventSchema", "InvalidPayload", "PoisonMessage", "SerdeError", "Serializer",
           "channel_codec", "default_wire", "event_schema", "registry_client", "serializer"]
