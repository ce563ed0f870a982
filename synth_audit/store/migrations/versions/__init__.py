"""Schema revisions of the result store, oldest first. Never edit a released revision; add one."""
