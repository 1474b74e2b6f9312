"""When: sends (snapshots of a rendered issue to lists), their states, and waking the worker on time."""
