"""Reusable test parts: a recording SendGrid stand-in, aiosmtpd servers, Prism, sample batches."""
