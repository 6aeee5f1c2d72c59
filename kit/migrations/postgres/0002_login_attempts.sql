-- Each login attempt records its failure rows *before* the password is checked, marked with a
-- random attempt id, and deletes them if the password was right. Parallel guesses thus count
-- against the limit at once, instead of after their (slow) hashes.
ALTER TABLE login_failures ADD COLUMN attempt TEXT;
CREATE INDEX login_failures_by_attempt ON login_failures (attempt);
