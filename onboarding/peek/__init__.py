"""Peeking at a topic's latest events: reading (platform adapter), decoding and masking of sensitive fields."""
