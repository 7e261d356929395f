"""The audit as an HTML page (zh and en); filled in below."""
