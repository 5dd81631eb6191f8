"""Reading clinics' exports: bytes and file names in, DuckDB tables of canonical visits and rejections out."""

from dashboard.ingest.columns import Mapping, MappingError
from dashboard.ingest.load import Dataset, FileSummary, load
from dashboard.ingest.reading import UnreadableFile

__all__ = ["Dataset", "FileSummary", "Mapping", "MappingError", "UnreadableFile", "load"]
