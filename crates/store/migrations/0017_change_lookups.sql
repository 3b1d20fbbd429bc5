-- What the publisher reads each round: the sessions updated, and the CDRs priced, since its last one.
CREATE INDEX sessions_by_update ON sessions (updated_at);
CREATE INDEX session_cdrs_by_pricing ON session_cdrs (priced_at);
-- The pseudonym each start was sent under, so that a member's question about one is answered by
-- an index instead of by deriving the pseudonym of every token ever started there. Starts recorded
-- before this column are given theirs when first needed.
ALTER TABLE roaming_starts ADD COLUMN pseudonym TEXT;
CREATE INDEX roaming_starts_by_pseudonym ON roaming_starts (cpo, pseudonym, created_at);
