"""Reading: strict YAML, the declarative schema, scheme specs, the typed model, loading, JSON Schemas."""
