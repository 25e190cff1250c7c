-- Analysts ask by period, type and rep: the events table is made again,
-- sorted by (type, at, event_id), so a period's rows of one type are one
-- range of the primary index. Queries read it without FINAL: the sink
-- inserts each event once (analytics/dedup.go); the ReplacingMergeTree
-- stays as the backstop for a duplicate further apart than the sink
-- remembers. No column CODECs (18.16 has none) and no LowCardinality (18.16
-- hides it behind an experimental setting): plain types, portable.
CREATE TABLE IF NOT EXISTS events_by_period (
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
    kafka_offset    Int64,
    value           Int64 DEFAULT 0,
    threshold       Int64 DEFAULT 0,
    until_ms        UInt64 DEFAULT 0,
    previous_rep_id String DEFAULT '',
    converted       UInt8 DEFAULT 0,
    policy_version  String DEFAULT ''
) ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (type, at, event_id);

INSERT INTO events_by_period (event_id, type, at, at_ms, lead_id, rep_id, request_id, reason, method, status, epoch, score,
    source, employees, territory, industry, temperature, priority, entered_pool_ms, rep_tier, rep_territory, kafka_partition,
    kafka_offset, value, threshold, until_ms, previous_rep_id, converted, policy_version)
SELECT event_id, type, at, at_ms, lead_id, rep_id, request_id, reason, method, status, epoch, score,
    source, employees, territory, industry, temperature, priority, entered_pool_ms, rep_tier, rep_territory, kafka_partition,
    kafka_offset, value, threshold, until_ms, previous_rep_id, converted, policy_version
FROM events FINAL;

RENAME TABLE events TO events_before_0004, events_by_period TO events;

DROP TABLE events_before_0004;

-- One row per lead (merged on read: the view lead_facts_v): when it was
-- qualified and how, its first owner, every contact, its outcome. Aging,
-- contact time and conversion cohorts read this instead of joining events.
CREATE TABLE IF NOT EXISTS lead_facts (
    lead_id        String,
    qualified_ms   AggregateFunction(minIf, UInt64, UInt8),
    score          AggregateFunction(maxIf, Int32, UInt8),
    source         AggregateFunction(anyIf, String, UInt8),
    employees      AggregateFunction(maxIf, Int32, UInt8),
    territory      AggregateFunction(anyIf, String, UInt8),
    first_owned_ms AggregateFunction(minIf, UInt64, UInt8),
    first_owner    AggregateFunction(argMinIf, String, UInt64, UInt8),
    first_method   AggregateFunction(argMinIf, String, UInt64, UInt8),
    owners         AggregateFunction(countIf, UInt8),
    contacts_ms    AggregateFunction(groupArrayIf, UInt64, UInt8),
    outcome_ms     AggregateFunction(maxIf, UInt64, UInt8),
    converted      AggregateFunction(maxIf, UInt8, UInt8),
    escalated      AggregateFunction(countIf, UInt8)
) ENGINE = AggregatingMergeTree
ORDER BY lead_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS lead_facts_mv TO lead_facts AS
SELECT lead_id,
    minIfState(at_ms, type = 'qualified') AS qualified_ms,
    maxIfState(score, type = 'qualified') AS score,
    anyIfState(source, type = 'qualified') AS source,
    maxIfState(employees, type = 'qualified') AS employees,
    anyIfState(territory, type = 'qualified') AS territory,
    minIfState(at_ms, type IN ('assigned', 'reassigned') AND rep_id != '') AS first_owned_ms,
    argMinIfState(rep_id, at_ms, type IN ('assigned', 'reassigned') AND rep_id != '') AS first_owner,
    argMinIfState(method, at_ms, type IN ('assigned', 'reassigned') AND rep_id != '') AS first_method,
    countIfState(type IN ('assigned', 'reassigned') AND rep_id != '') AS owners,
    groupArrayIfState(at_ms, type = 'contacted') AS contacts_ms,
    maxIfState(at_ms, type = 'outcome') AS outcome_ms,
    maxIfState(converted, type = 'outcome') AS converted,
    countIfState(type = 'escalated') AS escalated
FROM events
WHERE lead_id != ''
GROUP BY lead_id;

-- Leads per rep, day and method (merged on read: the view rep_day_v):
-- volume, score sum, claim speed (time in the pool at the assignment).
CREATE TABLE IF NOT EXISTS rep_day (
    day      Date,
    rep_id   String,
    method   String,
    leads    AggregateFunction(count),
    score    AggregateFunction(sum, Int32),
    speed_ms AggregateFunction(quantiles(0.5, 0.9), Int64)
) ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (day, rep_id, method);

CREATE MATERIALIZED VIEW IF NOT EXISTS rep_day_mv TO rep_day AS
SELECT toDate(at) AS day, rep_id, method, countState() AS leads, sumState(score) AS score, quantilesState(0.5, 0.9)(value) AS speed_ms
FROM events
WHERE type IN ('assigned', 'reassigned') AND rep_id != ''
GROUP BY day, rep_id, method;

-- The rows the migration copied feed the rollups once.
INSERT INTO lead_facts SELECT lead_id,
    minIfState(at_ms, type = 'qualified'), maxIfState(score, type = 'qualified'), anyIfState(source, type = 'qualified'),
    maxIfState(employees, type = 'qualified'), anyIfState(territory, type = 'qualified'),
    minIfState(at_ms, type IN ('assigned', 'reassigned') AND rep_id != ''),
    argMinIfState(rep_id, at_ms, type IN ('assigned', 'reassigned') AND rep_id != ''),
    argMinIfState(method, at_ms, type IN ('assigned', 'reassigned') AND rep_id != ''),
    countIfState(type IN ('assigned', 'reassigned') AND rep_id != ''),
    groupArrayIfState(at_ms, type = 'contacted'), maxIfState(at_ms, type = 'outcome'), maxIfState(converted, type = 'outcome'),
    countIfState(type = 'escalated')
FROM events WHERE lead_id != '' GROUP BY lead_id;

INSERT INTO rep_day SELECT toDate(at), rep_id, method, countState(), sumState(score), quantilesState(0.5, 0.9)(value)
FROM events WHERE type IN ('assigned', 'reassigned') AND rep_id != '' GROUP BY toDate(at), rep_id, method;

-- The analysts' views: one plain row per lead, per rep and day.
CREATE VIEW IF NOT EXISTS lead_facts_v AS
SELECT lead_id,
    minIfMerge(qualified_ms) AS qualified_ms,
    maxIfMerge(score) AS score,
    anyIfMerge(source) AS source,
    maxIfMerge(employees) AS employees,
    anyIfMerge(territory) AS territory,
    minIfMerge(first_owned_ms) AS first_owned_ms,
    argMinIfMerge(first_owner) AS first_owner,
    argMinIfMerge(first_method) AS first_method,
    countIfMerge(owners) AS owners,
    arraySort(groupArrayIfMerge(contacts_ms)) AS contacts_ms,
    maxIfMerge(outcome_ms) AS outcome_ms,
    maxIfMerge(converted) AS converted,
    countIfMerge(escalated) AS escalated
FROM lead_facts
GROUP BY lead_id;

CREATE VIEW IF NOT EXISTS rep_day_v AS
SELECT day, rep_id, method, countMerge(leads) AS leads, sumMerge(score) AS score_sum,
    quantilesMerge(0.5, 0.9)(speed_ms) AS speed_p50_p90_ms
FROM rep_day
GROUP BY day, rep_id, method;
