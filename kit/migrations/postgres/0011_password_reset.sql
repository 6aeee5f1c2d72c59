-- A completed password reset ends every session of the user with its own end reason,
-- `password_reset`.

ALTER TABLE session_history DROP CONSTRAINT session_history_end_reason_check;
ALTER TABLE session_history ADD CONSTRAINT session_history_end_reason_check
    CHECK (end_reason IN ('logout', 'logout_all', 'revoked', 'revoked_others',
                          'password_changed', 'password_reset', 'evicted', 'expired', 'idle',
                          'admin'));
