-- Art. 10: the daily minor-mode limit a service declares at registration.
ALTER TABLE events ADD COLUMN
    minor_daily_minutes UInt16 DEFAULT 0;
