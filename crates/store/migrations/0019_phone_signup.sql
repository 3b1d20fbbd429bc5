-- Drivers sign up in the app with their mobile number and a one-time code sent to it. New accounts
-- belong to the one operator of the node that has sign-up open (none by default).
ALTER TABLE operators ADD COLUMN driver_signup BIGINT NOT NULL DEFAULT 0;

-- The code last sent to each number, as a digest; it is spent by its first right use, and void
-- after too many wrong ones or when it expires. How many were sent in the current hour limits
-- what one number can be sent.
CREATE TABLE phone_codes (
    phone TEXT PRIMARY KEY,
    code_digest TEXT NOT NULL,
    sent_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    wrong_tries BIGINT NOT NULL DEFAULT 0,
    hour_started_at BIGINT NOT NULL,
    sent_this_hour BIGINT NOT NULL
);
