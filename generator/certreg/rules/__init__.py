"""Judging: one certificate's rules and the registry-wide rules, working days, validation."""
