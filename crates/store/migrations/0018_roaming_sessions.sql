-- The member whose driver a session is for, copied from its token (kept equal to it when the token
-- changes), so that the publisher's index holds only other members' drivers' sessions: an index on
-- every session's update time was rewritten by every MeterValues of every session.
ALTER TABLE sessions ADD COLUMN roaming_member TEXT;
UPDATE sessions SET roaming_member = (SELECT t.emsp_party FROM tokens t WHERE t.id_token = sessions.id_token);
DROP INDEX sessions_by_update;
CREATE INDEX roaming_sessions_by_update ON sessions (updated_at) WHERE roaming_member IS NOT NULL;
