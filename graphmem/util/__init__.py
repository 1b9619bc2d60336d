"""Small helpers with no domain: atomic files, locks, JSON reading, checked downloads."""
