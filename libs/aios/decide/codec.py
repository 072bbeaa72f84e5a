"""Faust codecs over the project's Avro codecs: records stay in the Confluent wire format.

Faust hands a codec the value alone, so there is one codec per topic (each topic has its own
registry subject). Inputs are read as raw bytes and decoded by the agent instead, so a record
that does not decode is dead-lettered with its reason rather than skipped by Faust.
"""

from __future__ import annotations

from typing import Any

from faust.serializers.codecs import Codec

from aios.kafka.serde import TopicCodec


class AvroCodec(Codec):
    def __init__(self, codec: TopicCodec, **kwargs: Any) -> None:
        super().__init__(codec=codec, **kwargs)
        self.codec = codec

    def _dumps(self, obj: Any) -> bytes:
        return self.codec.encode(obj)

    def _loads(self, s: bytes) -> Any:
        return self.codec.decode(s)
