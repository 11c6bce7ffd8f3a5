"""Gateway backup and restore: the database copied over SSH, plus a portable JSON export of
channels and tokens with their keys kept apart (docs/gateway-contract.md §11)."""
