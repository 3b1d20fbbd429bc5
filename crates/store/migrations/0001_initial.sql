-- Instants are BIGINT milliseconds since the Unix epoch (UTC); energy is BIGINT milliwatt-hours.
CREATE TABLE operators (
    id {{auto_id}},
    name TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE sites (
    id {{auto_id}},
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    name TEXT NOT NULL,
    time_zone TEXT NOT NULL,
    latitude DOUBLE PRECISION,
    longitude DOUBLE PRECISION,
    address TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE chargers (
    station_id TEXT PRIMARY KEY,
    operator_id BIGINT REFERENCES operators(id),
    site_id BIGINT REFERENCES sites(id),
    registration TEXT NOT NULL,
    auth_key_hash TEXT,
    vendor TEXT,
    model TEXT,
    serial_number TEXT,
    firmware_version TEXT,
    iccid TEXT,
    imsi TEXT,
    meter_type TEXT,
    meter_serial_number TEXT,
    firmware_status TEXT,
    diagnostics_status TEXT,
    last_boot_at BIGINT,
    last_seen_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE connectors (
    station_id TEXT NOT NULL REFERENCES chargers(station_id),
    connector_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    info TEXT,
    vendor_error_code TEXT,
    status_at BIGINT NOT NULL,
    PRIMARY KEY (station_id, connector_id)
);

CREATE TABLE status_history (
    id {{auto_id}},
    station_id TEXT NOT NULL,
    connector_id BIGINT NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT,
    info TEXT,
    vendor_error_code TEXT,
    status_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX status_history_by_station ON status_history (station_id, id);

CREATE TABLE tokens (
    id_token TEXT PRIMARY KEY,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    expires_at BIGINT,
    parent_id_token TEXT,
    label TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    id {{auto_id}},
    station_id TEXT NOT NULL REFERENCES chargers(station_id),
    connector_id BIGINT NOT NULL,
    id_token TEXT NOT NULL,
    authorization_status TEXT NOT NULL,
    state TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    meter_start_mwh BIGINT NOT NULL,
    reservation_id BIGINT,
    stopped_at BIGINT,
    meter_stop_mwh BIGINT,
    stop_reason TEXT,
    stopped_by TEXT,
    energy_mwh BIGINT NOT NULL,
    energy_flags TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (station_id, connector_id, started_at, id_token)
);
CREATE INDEX sessions_by_station_state ON sessions (station_id, state);

CREATE TABLE meter_values (
    id {{auto_id}},
    session_id BIGINT REFERENCES sessions(id),
    station_id TEXT NOT NULL,
    connector_id BIGINT NOT NULL,
    sampled_at BIGINT NOT NULL,
    measurand TEXT NOT NULL,
    context TEXT NOT NULL,
    phase TEXT,
    location TEXT NOT NULL,
    unit TEXT NOT NULL,
    value TEXT NOT NULL,
    register_mwh BIGINT,
    received_at BIGINT NOT NULL
);
CREATE INDEX meter_values_by_session ON meter_values (session_id, sampled_at);

CREATE TABLE charger_messages (
    station_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    action TEXT NOT NULL,
    payload_digest TEXT NOT NULL,
    reply TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (station_id, message_id)
);
CREATE INDEX charger_messages_by_age ON charger_messages (received_at);

CREATE TABLE commands (
    id {{auto_id}},
    station_id TEXT NOT NULL REFERENCES chargers(station_id),
    command TEXT NOT NULL,
    state TEXT NOT NULL,
    outcome TEXT,
    error TEXT,
    requested_by BIGINT,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);

CREATE TABLE staff (
    id {{auto_id}},
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    operator_id BIGINT REFERENCES operators(id),
    created_at BIGINT NOT NULL
);

CREATE TABLE api_credentials (
    secret_digest TEXT PRIMARY KEY,
    staff_id BIGINT NOT NULL REFERENCES staff(id),
    kind TEXT NOT NULL,
    name TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
