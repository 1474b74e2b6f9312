"""Transports: the `Transport` seam (base) and its implementations (SendGrid, SMTP, outbox, memory)."""
