"""Records: the crash-safe HDF5 record store and importers of public benchmark data (no torch here).

``RecordStore(path, mode)`` holds a run's architectures, proxy scores, ground truth, training results
and predictions; the tables are declared in :mod:`zcnas.records.schema`. Importers of public
benchmark formats live in :mod:`zcnas.records.importers` (imported on use).
"""

from zcnas.records.schema import (
    SCHEMA_VERSION,
    TABLES,
    Column,
    TableSchema,
    get_table,
    list_tables,
    register_table,
)
from zcnas.records.store import RecordStore, migrate

__all__ = ["RecordStore", "SCHEMA_VERSION", "TABLES", "Column", "TableSchema", "get_table",
           "list_tables", "migrate", "register_table"]
