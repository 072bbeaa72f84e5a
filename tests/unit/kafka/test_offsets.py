from aios.kafka.offsets import as_topic_partitions, next_offsets


def test_commits_one_past_the_highest_offset_per_partition_in_any_order() -> None:
    offsets = next_offsets([("a", 0, 5), ("a", 0, 3), ("a", 1, 0), ("b", 0, 9), ("a", 0, 4)])
    assert offsets == {("a", 0): 6, ("a", 1): 1, ("b", 0): 10}


def test_no_records_commit_nothing() -> None:
    assert next_offsets([]) == {}


def test_topic_partitions_are_sorted_and_carry_the_offset() -> None:
    parts = as_topic_partitions({("b", 0): 2, ("a", 1): 7})
    assert [(p.topic, p.partition, p.offset) for p in parts] == [("a", 1, 7), ("b", 0, 2)]
