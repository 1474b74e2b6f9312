"""Delivery: the Transport seam and its SendGrid, SMTP, outbox and in-memory implementations.

Nothing is re-exported here, so using one transport does not import the others (SendGrid loads cryptography):
import the submodule you need.
"""
