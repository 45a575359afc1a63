"""Dataset errors: each names the dataset, the file or line, and the fix.

Every failure of ``verify`` or of a load maps to one of these classes, so a
caller (and a test) can tell a truncated shard from a flipped byte from a
duplicated manifest line.
"""

from __future__ import annotations


class DatasetError(Exception):
    """Base class for every dataset problem."""

    code = "dataset"


class DatasetNotFoundError(DatasetError, FileNotFoundError):
    code = "not_found"


class DatasetExistsError(DatasetError, FileExistsError):
    code = "exists"


class DatasetLockedError(DatasetError):
    """Another process is writing (or repairing) the dataset."""

    code = "locked"


class SchemaVersionError(DatasetError):
    """The dataset was written with a newer major schema version."""

    code = "schema_version"


class ManifestError(DatasetError):
    """A manifest line is not valid JSON, fails its checksum or is inconsistent."""

    code = "manifest"


class TornManifestError(ManifestError):
    """The last manifest line is incomplete (a commit was interrupted)."""

    code = "torn_line"


class DuplicateEntryError(ManifestError):
    """A manifest line, shard name or episode id appears twice."""

    code = "duplicate"


class HeaderMismatchError(DatasetError):
    """Appending to a dataset recorded on another env, spaces or layout."""

    code = "header_mismatch"


class ShardError(DatasetError):
    code = "shard"


class ShardMissingError(ShardError, FileNotFoundError):
    code = "missing_shard"


class ShardSizeError(ShardError):
    """The shard on disk is shorter (truncated) or longer than the manifest says."""

    code = "shard_size"


class ShardChecksumError(ShardError):
    """The shard's sha256 differs from the manifest (flipped or rewritten bytes)."""

    code = "shard_checksum"


class ShardContentError(ShardError):
    """The shard's arrays do not match the manifest or the header layout."""

    code = "shard_content"


class UnlistedFileError(DatasetError):
    """A shard or temp file that no manifest line commits (left by a crash)."""

    code = "unlisted"


class DatasetValueError(DatasetError, ValueError):
    """A stored value is NaN/inf or outside its space; names episode, field, step, agent."""

    code = "bad_value"
