-- Mail waiting to be sent (src/mail/): written in the transaction of what it announces, sent by
-- a background task, deleted once sent or given up.

CREATE TABLE mail_outbox (
    id              BIGSERIAL PRIMARY KEY,
    -- What the mail is (verify_email, password_changed, ...): for the log and the metrics
    kind            TEXT    NOT NULL,
    -- The envelope's recipient (the address in the message's To header)
    recipient       TEXT    NOT NULL,
    -- The whole message, as RFC 5322 bytes: it may hold a one-time link, so it is never logged
    message         BYTEA   NOT NULL,
    queued_at       BIGINT  NOT NULL,
    -- Not sent before then (the backoff after a failed attempt)
    next_attempt_at BIGINT  NOT NULL,
    -- Sending attempts begun so far
    attempts        BIGINT  NOT NULL DEFAULT 0,
    -- A sender holds the message until then (0: nobody); a crashed sender's claim runs out
    claimed_until   BIGINT  NOT NULL DEFAULT 0
);

CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at);
