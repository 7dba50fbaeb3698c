-- Updates meldbot has handled, by Telegram's update_id, so an update Telegram delivers
-- again (its confirmation or the webhook's answer was lost, the bot was stopped or
-- crashed in between) is dropped instead of handled twice. Only recent ids are kept:
-- Telegram keeps an undelivered update for at most 24 hours. Holds no content.
CREATE TABLE handled_updates (
    update_id   INTEGER PRIMARY KEY,
    handled_at  TEXT NOT NULL
);
CREATE INDEX handled_updates_by_time ON handled_updates(handled_at);
