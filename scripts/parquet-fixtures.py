"""Writes the small Parquet files that test/unit/driftReaders.test.ts reads.

hyparquet only reads Parquet, so the fixtures are made once with pyarrow and kept in
test/fixtures/drift/. Run: python3 scripts/parquet-fixtures.py (needs pyarrow).
"""

import datetime as dt
import decimal
import os

import pyarrow as pa
import pyarrow.parquet as pq

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'drift')
N = 30


def basic():
    rows = range(N)
    long_texts = [
        f'this is a fairly long free text answer number {i} with several words in it'
        for i in rows
    ]
    table = pa.table(
        {
            'i32': pa.array([i for i in rows], pa.int32()),
            'i64': pa.array([None if i % 7 == 3 else i * 1000 for i in rows], pa.int64()),
            'u64': pa.array([2**40 + i for i in rows], pa.uint64()),
            'f64': pa.array([None if i == 5 else i / 4 for i in rows], pa.float64()),
            'f32': pa.array([i * 0.5 for i in rows], pa.float32()),
            'dec': pa.array(
                [decimal.Decimal(i * 125) / 100 for i in rows], pa.decimal128(10, 2)
            ),
            'flag': pa.array([None if i == 2 else i % 3 == 0 for i in rows], pa.bool_()),
            'cat': pa.array([None if i == 4 else ['red', 'green', 'blue'][i % 3] for i in rows]),
            'txt': pa.array(long_texts),
            'day': pa.array([dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in rows], pa.date32()),
            'ts_ms': pa.array(
                [dt.datetime(2024, 1, 1, 12, 0, 0) + dt.timedelta(minutes=i) for i in rows],
                pa.timestamp('ms'),
            ),
            'ts_us': pa.array(
                [dt.datetime(2024, 1, 1, 0, 0, 0, 500000) + dt.timedelta(hours=i) for i in rows],
                pa.timestamp('us', tz='UTC'),
            ),
            'codes': pa.array([str(i % 2) for i in rows]),
            'lst': pa.array([[i, i + 1] for i in rows], pa.list_(pa.int64())),
            'st': pa.array([{'a': i, 'b': str(i)} for i in rows]),
        }
    )
    # Three row groups, so the reader's group-by-group path is exercised.
    pq.write_table(table, os.path.join(OUT, 'basic.parquet'), row_group_size=10)


def empty():
    schema = pa.schema([('x', pa.float64()), ('name', pa.string())])
    pq.write_table(schema.empty_table(), os.path.join(OUT, 'empty.parquet'))


if __name__ == '__main__':
    os.makedirs(OUT, exist_ok=True)
    basic()
    empty()
