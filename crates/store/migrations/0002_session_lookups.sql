-- Authorization asks whether a token already drives a running session.
CREATE INDEX sessions_by_token_state ON sessions (id_token, state);
