"""Read-only summaries for operations: what really happened to each send."""
