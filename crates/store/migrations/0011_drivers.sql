-- Drivers' accounts for the driver API: a driver logs in with a username (a phone number or an
-- e-mail address) and a password and sees only their own charges. The tokens they charge with (the
-- app token made with the account, cards linked to it) name the account.
CREATE TABLE drivers (
    id {{auto_id}},
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    name TEXT,
    -- active or blocked (a blocked driver cannot log in, and their logins end)
    status TEXT NOT NULL,
    -- wrong passwords in a row, and until when logins are refused after too many
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    created_at BIGINT NOT NULL
);

-- Login tokens of drivers, kept as SHA-256 digests only.
CREATE TABLE driver_credentials (
    secret_digest TEXT PRIMARY KEY,
    driver_id BIGINT NOT NULL REFERENCES drivers(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX driver_credentials_by_driver ON driver_credentials (driver_id);

ALTER TABLE tokens ADD COLUMN driver_id BIGINT REFERENCES drivers(id);
CREATE INDEX tokens_by_driver ON tokens (driver_id);
CREATE INDEX roaming_starts_by_token ON roaming_starts (id_token, created_at);
