"""Read a survey file a record batch at a time, so ingest never holds a whole file as pandas objects.

CSV goes through ``pyarrow.csv.open_csv`` with every column as text and no value read as missing (what
``pd.read_csv(dtype=str, keep_default_na=False)`` gives), Parquet through ``ParquetFile.iter_batches``. A CSV
that pyarrow's reader refuses (a row with more or fewer fields than the header, which pandas pads or reports)
is read again with pandas' chunked reader, so the rows and messages stay those of a whole-file read. The
file's digest and the UTF-8 check (naming the byte offset) come from one streaming pass over its bytes.
"""

from __future__ import annotations

import codecs
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from features.data.validate import ContractError

DEFAULT_BATCH_ROWS = 100_000
_BLOCK = 1 << 20


def file_digest(path: Path) -> str:
    """SHA-256 of the file; for a CSV also the UTF-8 and empty-file checks of a whole read."""
    digest = hashlib.sha256()
    csv = path.suffix.lower() == ".csv"
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, blank = 0, True
    try:
        with path.open("rb") as fh:
            while block := fh.read(_BLOCK):
                digest.update(block)
                if csv:
                    pending = decoder.getstate()[0]
                    try:
                        text = decoder.decode(block)
                    except UnicodeDecodeError as e:
                        data = pending + block
                        raise ContractError(
                            f"{path}: not UTF-8 text (byte 0x{data[e.start]:02x} at offset "
                            f"{offset - len(pending) + e.start}); save the file as UTF-8 (with or without BOM) — "
                            f"GBK/GB18030 exports must be converted first") from e
                    blank = blank and not text.lstrip("\ufeff").strip()
                offset += len(block)
            if csv:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as e:
                    raise ContractError(
                        f"{path}: not UTF-8 text (truncated character at offset {offset - 1}); save the file as "
                        f"UTF-8 (with or without BOM)") from e
    except OSError as e:
        raise ContractError(f"{path}: cannot read the file ({e.strerror})") from e
    if csv and blank:
        raise ContractError(f"{path}: empty file (no header, no rows)")
    return digest.hexdigest()


def read_batches(path: Path, batch_rows: int = DEFAULT_BATCH_ROWS) -> Iterator[pd.DataFrame]:
    """The file's rows, ``batch_rows`` at a time (at least one frame: a file with a header and no rows gives
    an empty frame with its columns). Call ``file_digest`` first: it makes the checks a read relies on."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        yield from _parquet_batches(path, batch_rows)
    elif suffix == ".csv":
        yield from _csv_batches(path, batch_rows)
    else:
        raise ContractError(f"{path}: unsupported file type {path.suffix!r}; use .csv (UTF-8) or .parquet")


def _parquet_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        empty = True
        for batch in pf.iter_batches(batch_size=batch_rows):
            empty = False
            yield batch.to_pandas()
    except Exception as e:  # pyarrow raises several types for a damaged file
        if isinstance(e, ContractError):
            raise
        raise ContractError(f"{path}: not a readable Parquet file ({type(e).__name__})") from e
    if empty:
        yield schema.empty_table().to_pandas()


def _csv_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    """pyarrow's streaming reader; a file it refuses is read by pandas in chunks instead (see module doc).
    Whether it refuses is known before the first batch is handed out (a first pass reads one column, which
    checks every row's shape), so no batch is given twice."""
    names = _csv_header(path)
    if names is None or not _arrow_reads(path, names):
        yield from _pandas_csv_batches(path, batch_rows)
        return
    reader = _open_csv(path, names)
    empty = True
    for batch in reader:
        for start in range(0, batch.num_rows, batch_rows):
            empty = False
            yield _text_frame(batch.slice(start, batch_rows), names)
    if empty:
        yield pd.DataFrame({n: pd.Series(dtype=object) for n in names})


def _csv_header(path: Path) -> list[str] | None:
    """The header's column names, or None when pyarrow cannot be used (repeated or blank names, where pandas
    renames; or no header line pyarrow can read)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    try:
        reader = pv.open_csv(path, read_options=pv.ReadOptions(block_size=_BLOCK, use_threads=False),
                             convert_options=pv.ConvertOptions(column_types={}, check_utf8=True))
        names = [str(n) for n in reader.schema.names]
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError):
        return None
    if len(set(names)) != len(names) or any(not n for n in names):
        return None
    return names


def _open_csv(path: Path, names: list[str]):
    import pyarrow as pa
    import pyarrow.csv as pv

    return pv.open_csv(
        path, read_options=pv.ReadOptions(block_size=8 * _BLOCK, use_threads=False),
        parse_options=pv.ParseOptions(newlines_in_values=True),
        convert_options=pv.ConvertOptions(column_types={n: pa.string() for n in names}, null_values=[],
                                          strings_can_be_null=False, quoted_strings_can_be_null=False))


def _arrow_reads(path: Path, names: list[str]) -> bool:
    """Whether pyarrow reads every row (the shape check is cheap: one column kept, the rest skipped)."""
    import pyarrow as pa
    import pyarrow.csv as pv

    try:
        reader = pv.open_csv(
            path, read_options=pv.ReadOptions(block_size=8 * _BLOCK, use_threads=False),
            parse_options=pv.ParseOptions(newlines_in_values=True),
            convert_options=pv.ConvertOptions(column_types={names[0]: pa.string()}, include_columns=[names[0]],
                                              null_values=[], strings_can_be_null=False))
        for _ in reader:
            pass
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def _text_frame(batch, names: list[str]) -> pd.DataFrame:
    """A record batch of text columns as a frame of Python strings (what pandas' reader gives)."""
    return pd.DataFrame({n: batch.column(i).to_numpy(zero_copy_only=False).astype(object)
                         for i, n in enumerate(names)})


def _pandas_csv_batches(path: Path, batch_rows: int) -> Iterator[pd.DataFrame]:
    try:
        with pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=False, encoding="utf-8-sig",
                         chunksize=batch_rows) as chunks:
            empty = True
            for chunk in chunks:
                empty = False
                yield chunk.reset_index(drop=True)
    except (pd.errors.ParserError, ValueError) as e:
        raise ContractError(f"{path}: not a readable CSV table ({e})") from e
    if empty:
        header = pd.read_csv(path, dtype=str, keep_default_na=False, nrows=0, encoding="utf-8-sig")
        yield header
