"""Maps: the offline interactive HTML map and the static PNG."""
