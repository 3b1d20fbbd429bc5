-- Signatures of member requests this node accepted, kept while a replay of them would still be on
-- time (five minutes either side of the signing time): a restart does not make replays possible.
CREATE TABLE member_request_signatures (
    signature TEXT PRIMARY KEY,
    signed_at BIGINT NOT NULL
);
CREATE INDEX member_request_signatures_by_time ON member_request_signatures (signed_at);
