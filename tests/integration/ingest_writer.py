"""A writer process for the crash test: opens the store, says "ready", ingests one batch."""

import sys

import pyarrow.parquet as pq

from jingce.model.units import registry
from jingce.settings import Settings
from jingce.store import Store

data_dir, table_path, digest = sys.argv[1:4]
store = Store(Settings(data_dir=data_dir))
admin = store.bootstrap()
table = pq.read_table(table_path)
registry()  # warm the unit registry, so that the time after "ready" is the ingest itself
print("ready", flush=True)
store.ingest(admin, table, content_hash=digest, source_format="crash-test")
print("done", flush=True)
