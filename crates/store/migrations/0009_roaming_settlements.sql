-- What this node's drivers pay for their charges at other members' chargers: each CDR a member
-- sent is checked against the ledger's anchor of it before the driver is charged the amount the
-- ledger priced.
CREATE TABLE roaming_settlements (
    cpo TEXT NOT NULL,
    cdr_id TEXT NOT NULL,
    start_id TEXT NOT NULL,
    id_token TEXT NOT NULL,
    -- awaiting_anchor, mismatch, charged, declined, billed_elsewhere, disputed
    state TEXT NOT NULL,
    problem TEXT,
    currency TEXT,
    -- Minor units, tax included, as the ledger priced the CDR.
    amount BIGINT,
    height BIGINT,
    cdr_hash TEXT,
    payment_reference TEXT,
    dispute_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (cpo, cdr_id)
);
CREATE INDEX roaming_settlements_by_start ON roaming_settlements (start_id);

-- Other members' tariffs (OCPI Tariff JSON), the newest version each member sent; kept like their
-- locations, whose id column takes the same name.
ALTER TABLE roaming_locations RENAME COLUMN location_id TO object_id;
CREATE TABLE roaming_tariffs (
    cpo TEXT NOT NULL,
    object_id TEXT NOT NULL,
    body TEXT NOT NULL,
    last_updated BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (cpo, object_id)
);
