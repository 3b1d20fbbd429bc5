-- Pay after charging: how each token pays, a payment per session (a hold at the start, a capture at
-- the stop, adjustments when the session is re-priced), refunds, wallet top-ups and withdrawals, and
-- every money movement in an append-only journal between accounts.

-- 'wallet', or a payment provider's reference to a driver's payment method ('sandbox:visa-4242');
-- none: the operator bills the token's holder some other way.
ALTER TABLE tokens ADD COLUMN payment_method TEXT;
ALTER TABLE operators ADD COLUMN wallets_enabled BIGINT NOT NULL DEFAULT 0;

CREATE TABLE payments (
    id {{auto_id}},
    session_id BIGINT NOT NULL UNIQUE REFERENCES sessions(id),
    id_token TEXT NOT NULL,
    operator_id BIGINT NOT NULL REFERENCES operators(id),
    method TEXT NOT NULL,
    currency TEXT NOT NULL,
    hold_amount BIGINT NOT NULL,
    -- hold_pending, held, declined, captured, released, owing (a later charge was declined)
    state TEXT NOT NULL,
    provider_reference TEXT,
    captured BIGINT NOT NULL DEFAULT 0,
    refunded BIGINT NOT NULL DEFAULT 0,
    -- The session total the payment has been settled for; the worker charges or refunds the
    -- difference when the session's priced CDR says otherwise.
    settled_total BIGINT,
    adjustments BIGINT NOT NULL DEFAULT 0,
    failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX payments_by_state ON payments (state);

CREATE TABLE refunds (
    id {{auto_id}},
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

-- Which capture or charge each refund gives money back from (null reference: a wallet), fixed when
-- the refund is recorded so a retry after a crash returns the same parts.
CREATE TABLE refund_parts (
    refund_id BIGINT NOT NULL REFERENCES refunds(id),
    part BIGINT NOT NULL,
    provider_reference TEXT,
    amount BIGINT NOT NULL CHECK (amount > 0),
    PRIMARY KEY (refund_id, part)
);

-- Wallet top-ups and withdrawals, recorded before the provider is asked so that the worker finishes
-- one the node died in the middle of.
CREATE TABLE wallet_operations (
    id {{auto_id}},
    request_key TEXT NOT NULL UNIQUE,
    -- top_up, withdrawal
    kind TEXT NOT NULL,
    id_token TEXT NOT NULL,
    method TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    -- pending, done, declined
    state TEXT NOT NULL,
    failure TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX wallet_operations_by_state ON wallet_operations (state);

-- Accounts: 'wallet:<token>', 'wallet-hold:<token>', 'revenue:<operator id>', 'provider:<name>'.
CREATE TABLE money_movements (
    id {{auto_id}},
    movement_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    from_account TEXT NOT NULL,
    to_account TEXT NOT NULL,
    amount BIGINT NOT NULL CHECK (amount > 0),
    currency TEXT NOT NULL,
    session_id BIGINT,
    reason TEXT,
    -- The provider's capture or charge the money came through, for refunds to go back the same way.
    provider_reference TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX money_movements_session ON money_movements (session_id);
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
