"""Who is who: the providers and authorities that report (tokens, mTLS subjects, rates), and
the regulators who use the console (roles, scopes, password hashes), each kept in a TOML file."""
