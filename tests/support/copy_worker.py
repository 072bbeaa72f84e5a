"""A service built on the shared loop, for tests that kill it: copies events to another topic.

Run as `python -m tests.support.copy_worker IN OUT DEADLETTER GROUP`. An event whose text is
`explode` makes the handler raise, as a handler bug on one record would.
"""

from __future__ import annotations

import argparse
import logging
import time

from aios.kafka.loop import ConsumerLoop, LoopSettings
from aios.kafka.records import InputRecord, OutputRecord
from aios.kafka.serde import Codecs
from aios.settings import ConnectionSettings

EVENTS = "aios.events.received"


def copy_handler(out_topic: str, delay_s: float = 0.0) -> callable:  # type: ignore[valid-type]
    def handle(batch: list[InputRecord]) -> list[OutputRecord]:
        if delay_s:
            time.sleep(delay_s)
        outputs = []
        for record in batch:
            if record.value["text"] == "explode":
                raise ValueError(f"cannot handle event {record.value['event_id']}")
            outputs.append(record.output(out_topic, {**record.value, "trace": record.trace_field().to_avro()}))
        return outputs

    return handle


def build_loop(
    in_topic: str, out_topic: str, deadletter: str, group: str, connection: ConnectionSettings, delay_s: float = 0.0
) -> ConsumerLoop:
    codecs = Codecs(
        connection.schema_registry_url,
        carries={in_topic: EVENTS, out_topic: EVENTS, deadletter: "aios.deadletter"},
    )
    return ConsumerLoop(
        service="copy-worker",
        group_id=group,
        topics=[in_topic],
        handler=copy_handler(out_topic, delay_s),
        connection=connection,
        settings=LoopSettings(
            max_batch=200, max_wait_ms=100, handler_retries=2, retry_backoff_ms=10, deadletter_topic=deadletter
        ),
        codecs=codecs,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("in_topic", "out_topic", "deadletter", "group"):
        parser.add_argument(name)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO)
    build_loop(
        args.in_topic, args.out_topic, args.deadletter, args.group, ConnectionSettings(), args.delay_ms / 1000
    ).run()


if __name__ == "__main__":
    main()
