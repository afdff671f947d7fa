"""Staff work on the records: writing records (new, decide), the public diff, the git base (REG-APPEND)."""
