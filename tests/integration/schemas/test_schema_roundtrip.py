"""Every catalogue schema survives Kafka and the registry; Confluent's own consumer reads it too."""

from __future__ import annotations

import json

import pytest
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

from aios.kafka.clients import registry_config
from aios.kafka.serde import Codecs
from aios.kafka.subjects import schema_for
from aios.kafka.topics import load_catalogue
from tests.integration.conftest import TopicFactory
from tests.support.avro_examples import example_value
from tests.support.kafka_io import at_least, produce_raw, read_topic, value_of

CATALOGUE_TOPICS = load_catalogue().names()


@pytest.mark.parametrize("carries", CATALOGUE_TOPICS)
def test_schema_round_trips_through_kafka_and_the_registry(
    carries: str, topics: TopicFactory, kafka_bootstrap: str, schema_registry_url: str
) -> None:
    topic = topics(carries, partitions=1)
    value = example_value(json.loads(schema_for(carries).text))
    writer = Codecs(schema_registry_url, carries={topic: carries})
    data = writer.encode(topic, value)
    assert data[0] == 0, "Confluent wire format starts with magic byte 0"

    produce_raw(kafka_bootstrap, topic, [(b"k", data)])
    [message] = read_topic(kafka_bootstrap, topic, at_least(1))

    reader = Codecs(schema_registry_url, carries={topic: carries})  # fresh: nothing cached
    assert reader.decode(topic, value_of(message)) == value


def test_a_confluent_only_consumer_decodes_what_aios_produced(
    topics: TopicFactory, kafka_bootstrap: str, schema_registry_url: str
) -> None:
    """No project code on the reading side: only SchemaRegistryClient and AvroDeserializer."""
    carries = "aios.events.received"
    topic = topics(carries, partitions=1)
    value = example_value(json.loads(schema_for(carries).text))
    produce_raw(kafka_bootstrap, topic, [(None, Codecs(schema_registry_url, {topic: carries}).encode(topic, value))])

    [message] = read_topic(kafka_bootstrap, topic, at_least(1))
    deserializer = AvroDeserializer(SchemaRegistryClient(registry_config(schema_registry_url)))
    decoded = deserializer(message.value(), SerializationContext(topic, MessageField.VALUE))
    assert decoded == value
