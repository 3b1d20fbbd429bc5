-- Pay after charging: how each token pays, a payment per session (a hold at the start, a capture at
-- the stop), refunds, and every money movement in an append-only journal between accounts.

-- 'wallet', or a payment provider's reference to a driver's payment method ('sandbox:visa-4242');
-- none: the operator bills the token's holder some other way.
ALTER TABLE tokens ADD COLUMN payment_method TEXT;
ALTER TABLE operators ADD COLUMN wallets_enabled BIGINT NOT NULL DEFAULT 0;

CREATE TABLE payments (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id BIGINT NOT NULL UNIQUE REFERENCES sessions(id),
    id_token TEXT NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    method TEXT NOT NULL,
    currency TEXT NOT NULL,
    hold_amount BIGINT NOT NULL,
    -- hold_pending, held, declined, captured, released
    state TEXT NOT NULL,
    provider_reference TEXT,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payments_by_state ON payments (state);

CREATE TABLE refunds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_key TEXT NOT NULL UNIQUE,
    payment_id BIGINT NOT NULL REFERENCES payments(id),
    amount BIGINT NOT NULL CHECK (amount > 0),
    reason TEXT NOT NULL,
    -- pending, done
    state TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX refunds_by_state ON refunds (state);

-- Accounts: 'wallet:<token>', 'wallet-hold:<token>', 'revenue:<operator id>', 'provider:<name>'.
CREATE TABLE money_movements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    movement_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    session_id BIGINT,
    reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX money_movements_from ON money_movements (from_account);
CREATE INDEX money_movements_to ON money_movements (to_account);

-- The built-in sandbox payment provider's own books: each request once, by its key.
CREATE TABLE sandbox_operations (
    request_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    reference TEXT NOT NULL,
    method TEXT,
    amount BIGINT NOT NULL,
    currency TEXT NOT NULL,
    approved BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
