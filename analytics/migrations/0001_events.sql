-- The wide event table: one row per transition or refusal on the events
-- topic (schemas/event.avsc). ReplacingMergeTree on the event id, and FINAL
-- in every query, so a replay of the topic never double-counts.
-- Portable SQL: runs on ClickHouse 18.16 (Debian) and current releases.
CREATE TABLE IF NOT EXISTS events (
    event_id        String,
    type            String,
    at              DateTime,
    at_ms           UInt64,
    lead_id         String,
    rep_id          String,
    request_id      String,
    reason          String,
    method          String,
    status          String,
    epoch           Int32,
    score           Int32,
    source          String,
    employees       Int32,
    territory       String,
    industry        String,
    temperature     String,
    priority        String,
    entered_pool_ms UInt64,
    rep_tier        Int32,
    rep_territory   String,
    kafka_partition Int32,
    kafka_offset    Int64
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (type, event_id)
