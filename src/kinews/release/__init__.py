"""Validated records -> a release folder, its records in the root, diff and publication."""

# The Hub's convention for one Parquet file, `datasets.config.MAX_SHARD_SIZE` (a test checks
# they agree): `kinews build`'s default. Spelled here, in a package whose modules it needs none
# of, so that the start of every command imports neither `datasets` nor the release modules.
MAX_SHARD_SIZE = "500MB"
