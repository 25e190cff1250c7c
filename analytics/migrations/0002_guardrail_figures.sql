-- Guardrail decisions carry the figures that triggered them (schemas/event.avsc):
-- value (claims in the window, misses in the week, claim-to-contact ms, ...),
-- threshold (the limit), until (end of a cooldown, suspension or hold), the
-- previous owner of a reassigned lead, and a conversion flag for outcomes.
ALTER TABLE events
    ADD COLUMN value Int64 DEFAULT 0,
    ADD COLUMN threshold Int64 DEFAULT 0,
    ADD COLUMN until_ms UInt64 DEFAULT 0,
    ADD COLUMN previous_rep_id String DEFAULT '',
    ADD COLUMN converted UInt8 DEFAULT 0
