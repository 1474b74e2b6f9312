"""Editor content: issue and publication files → typed, validated values (pure, no database)."""
