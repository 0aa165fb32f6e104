"""How the job spreads story windows over tasks (``storyline.scale.tables``): plain Python."""

from __future__ import annotations

from storyline.scale.tables import shuffle_partition, spread_keys


def test_windows_spread_over_partitions_by_load_largest_first():
    sizes = {10: 500, 20: 480, 30: 30, 40: 20, 50: 10}
    keys = spread_keys(sizes, 2)
    assert len(set(keys.values())) == len(sizes)  # one key a window: a group stays one window
    load = {0: 0, 1: 0}
    for window, key in keys.items():
        load[shuffle_partition(key, 2)] += sizes[window]
    assert load[shuffle_partition(keys[10], 2)] == 520 and load[shuffle_partition(keys[20], 2)] == 520  # 500 + 20; 480 + 30 + 10
    assert spread_keys(sizes, 2) == keys  # the same input, the same keys


def test_a_partition_is_the_hash_of_the_key_modulo_the_partitions_whatever_its_sign():
    assert all(0 <= shuffle_partition(k, 7) < 7 for k in range(-100, 100))
    assert shuffle_partition(0, 1) == 0
