"""Delivery: the send engine (`engine/`) and the `Transport` seam with its implementations (`transports/`).

Nothing is re-exported here, so using one transport does not import the others (SendGrid loads cryptography):
import the submodule you need.
"""
