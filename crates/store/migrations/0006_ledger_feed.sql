-- What the node tells the consortium ledger: whose driver a roaming token stands for, each charger's
-- commissioning record (its identity and calibration on the ledger), and which sessions' CDRs the
-- ledger holds.

-- The member (party id) whose driver the token stands for: the token is that member's pseudonym of
-- the driver. None: one of the operator's own drivers.
ALTER TABLE tokens ADD COLUMN emsp_party TEXT;

CREATE TABLE charger_commissioning (
    station_id TEXT PRIMARY KEY REFERENCES chargers(station_id),
    evse_id TEXT NOT NULL UNIQUE,
    max_power_watts BIGINT NOT NULL,
    -- Comma-separated connector types as the ledger names them: gbt_dc,gbt_ac,ccs2,...
    connectors TEXT NOT NULL,
    metering_certificate TEXT NOT NULL,
    calibration_certificate TEXT NOT NULL,
    calibration_expires_at BIGINT NOT NULL,
    commissioned_at BIGINT NOT NULL,
    decommissioned_at BIGINT
);

-- Written once the ledger's state holds the session's CDR: those sessions are not offered again.
CREATE TABLE ledger_anchors (
    session_id BIGINT PRIMARY KEY REFERENCES sessions(id),
    cdr_id TEXT NOT NULL,
    height BIGINT NOT NULL,
    recorded_at BIGINT NOT NULL
);
