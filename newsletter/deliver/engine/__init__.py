"""The send engine: materialise a send's deliveries, claim batches, merge, send through a transport, mark."""
