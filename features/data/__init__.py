"""The survey data: its contract, intake (validate, drop identifiers, ingest), the Parquet warehouse, the as-of
rule, household documents and the one table writer."""
