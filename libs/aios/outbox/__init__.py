"""The transactional outbox: records written with the change that causes them, published to Kafka later.

One publisher (`publisher.OutboxPublisher`) serves every outbox table; act and review each keep
their own table behind the `OutboxStore` protocol.
"""
