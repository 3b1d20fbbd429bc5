-- OCPI between members: messages to other members kept until acknowledged, what was last published
-- to each, and the locations other members published to this node.

-- Written in the same transaction as what caused it; sent by a worker that retries with back-off
-- until the peer acknowledges. An undelivered message about an object is replaced by a newer one
-- about the same object (the newer carries the whole object).
CREATE TABLE ocpi_outbox (
    id {{auto_id}},
    peer TEXT NOT NULL,
    object_key TEXT NOT NULL,
    method TEXT NOT NULL,
    -- After the peer's OCPI base URL, e.g. /2.2.1/emsp/locations/CN/M01/12
    path TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX ocpi_outbox_due ON ocpi_outbox (delivered_at, next_attempt_at);
CREATE INDEX ocpi_outbox_object ON ocpi_outbox (peer, object_key);

-- A digest of what was last queued for each peer about each object: only changes are sent.
CREATE TABLE ocpi_published (
    peer TEXT NOT NULL,
    object_key TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (peer, object_key)
);

-- Other members' locations (OCPI Location JSON), the newest version each member sent.
CREATE TABLE roaming_locations (
    cpo TEXT NOT NULL,
    location_id TEXT NOT NULL,
    body TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cpo, location_id)
);

-- Charges this node's drivers asked to start at other members' chargers, and what came of them.
-- The driver's own token stays here; the other member sees only its pseudonym.
CREATE TABLE roaming_starts (
    id TEXT PRIMARY KEY,
    id_token TEXT NOT NULL,
    cpo TEXT NOT NULL,
    location_id TEXT NOT NULL,
    evse_uid TEXT NOT NULL,
    -- requested, then accepted or rejected (the member's answer) or unreachable, then the result
    -- the member posts: started, failed, timeout, ...
    state TEXT NOT NULL,
    message TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Starts other members asked this node for: which of its sessions answers which request (OCPI's
-- authorization_reference), by the member's token and the charger.
CREATE TABLE ocpi_authorizations (
    id_token TEXT NOT NULL,
    station_id TEXT NOT NULL,
    member TEXT NOT NULL,
    reference TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (reference, member)
);
CREATE INDEX ocpi_authorizations_by_token ON ocpi_authorizations (id_token, station_id, created_at);

-- This node's drivers' charges at other members' chargers: the newest Session each member sent,
-- and the CDRs (OCPI JSON).
CREATE TABLE roaming_sessions (
    cpo TEXT NOT NULL,
    session_id TEXT NOT NULL,
    authorization_reference TEXT,
    body TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cpo, session_id)
);
CREATE TABLE roaming_cdrs (
    cpo TEXT NOT NULL,
    cdr_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    body TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cpo, cdr_id)
);
