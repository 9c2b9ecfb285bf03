"""The routing data plane: filters and decoding for copying events to subscribers' topics."""
