-- Tariff versions (never changed once saved), which tariff applies where, and what each session is
-- priced by: the version in force when it started, in its site's time zone, and its priced CDR.
CREATE TABLE tariffs (
    tariff_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    valid_from BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tariff_id, version)
);
CREATE INDEX tariffs_by_operator ON tariffs (operator_id, tariff_id);

-- target: 'site:<id>', 'charger:<station id>' or 'connector:<station id>:<connector id>'.
CREATE TABLE tariff_assignments (
    target TEXT PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    tariff_id TEXT NOT NULL,
    assigned_at BIGINT NOT NULL
);

ALTER TABLE sessions ADD COLUMN tariff_id TEXT;
ALTER TABLE sessions ADD COLUMN tariff_version BIGINT;
ALTER TABLE sessions ADD COLUMN time_zone TEXT;

CREATE TABLE session_cdrs (
    session_id BIGINT PRIMARY KEY REFERENCES sessions(id),
    currency TEXT NOT NULL,
    total_minor BIGINT NOT NULL,
    body TEXT NOT NULL,
    priced_at BIGINT NOT NULL
);
