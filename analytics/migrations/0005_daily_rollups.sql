-- Daily rollups the fairness report reads for the whole days of its period
-- (analytics/queries/fairness_*.sql); the partial days at the period's
-- edges come from events, so every figure stays exact to the second. Days
-- are UTC day numbers (intDiv(toUInt32(at), 86400)): no server time zone
-- decides where a day ends. Plain types and no CODECs: 18.16 and current
-- ClickHouse alike.

-- Leads given to reps, per day, rep and method: how many, and the sums of
-- their scores and of their assignment times.
CREATE TABLE IF NOT EXISTS assign_day (
    day       UInt32,
    rep_id    String,
    method    String,
    n         UInt64,
    score_sum Int64,
    at_sum    UInt64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id, method);

CREATE MATERIALIZED VIEW IF NOT EXISTS assign_day_mv TO assign_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, method, count() AS n, sum(score) AS score_sum, sum(at_ms) AS at_sum
FROM events
WHERE type IN ('assigned', 'reassigned') AND rep_id != ''
GROUP BY day, rep_id, method;

-- Every pick, narrow: its score and its time in the pool, sorted by day and
-- rep (score histograms, claim speed quantiles and the aged picks of any
-- lead.aged_after read it; aggregate states of arrays or quantiles were
-- slower to merge, and groupArray states crash the 18.16 server on large
-- inserts).
CREATE TABLE IF NOT EXISTS pick_day (
    day    UInt32,
    rep_id String,
    score  Int32,
    value  Int64
) ENGINE = MergeTree
ORDER BY (day, rep_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS pick_day_mv TO pick_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, score, value
FROM events
WHERE type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '';

-- Every lead's first owner (its one 'assigned' event; later owners are
-- 'reassigned'), by the day the lead entered the pool: when it entered
-- and how long it had waited (the aged leads of any lead.aged_after).
CREATE TABLE IF NOT EXISTS first_owner (
    day        UInt32,
    entered_ms UInt64,
    value      Int64
) ENGINE = MergeTree
ORDER BY (day, entered_ms);

CREATE MATERIALIZED VIEW IF NOT EXISTS first_owner_mv TO first_owner AS
SELECT toUInt32(intDiv(entered_pool_ms, 86400000)) AS day, entered_pool_ms AS entered_ms, value
FROM events
WHERE type = 'assigned' AND rep_id != '';

-- Guardrail decisions per day, rep, type and reason.
CREATE TABLE IF NOT EXISTS guard_day (
    day    UInt32,
    rep_id String,
    type   String,
    reason String,
    n      UInt64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id, type, reason);

CREATE MATERIALIZED VIEW IF NOT EXISTS guard_day_mv TO guard_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, type, reason, count() AS n
FROM events
WHERE type IN ('claim_refused', 'open_refused', 'sla_missed', 'sla_penalty', 'rep_suspended',
               'cooldown_started', 'suspension_lifted', 'quotas_adjusted', 'reassigned', 'escalated')
GROUP BY day, rep_id, type, reason;

-- Source and company-size mix of the picks (rep_id) and of the pool
-- (rep_id = '': the leads qualified), per day.
CREATE TABLE IF NOT EXISTS mix_day (
    day    UInt32,
    rep_id String,
    source String,
    s1     UInt64,
    s2     UInt64,
    s3     UInt64,
    s4     UInt64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id, source);

CREATE MATERIALIZED VIEW IF NOT EXISTS mix_day_mv TO mix_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, source,
    countIf(employees < 50) AS s1, countIf(employees >= 50 AND employees < 250) AS s2,
    countIf(employees >= 250 AND employees < 1000) AS s3, countIf(employees >= 1000) AS s4
FROM events
WHERE (type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '') OR type = 'qualified'
GROUP BY day, rep_id, source;

-- Outcomes per day, rep, picked or not and score decile.
CREATE TABLE IF NOT EXISTS outcome_day (
    day       UInt32,
    rep_id    String,
    picked    UInt8,
    band      Int64,
    n         UInt64,
    converted UInt64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id, picked, band);

CREATE MATERIALIZED VIEW IF NOT EXISTS outcome_day_mv TO outcome_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, toUInt8(method = 'cherry_pick') AS picked,
    toInt64(intDiv(least(greatest(score, 0), 99), 10) * 10) AS band, count() AS n, countIf(converted = 1) AS converted
FROM events
WHERE type = 'outcome' AND rep_id != ''
GROUP BY day, rep_id, picked, band;

-- A rep's own first contacts per day: how many, claim-to-contact sum.
CREATE TABLE IF NOT EXISTS contact_day (
    day       UInt32,
    rep_id    String,
    n         UInt64,
    value_sum Int64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id);

CREATE MATERIALIZED VIEW IF NOT EXISTS contact_day_mv TO contact_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, count() AS n, sum(value) AS value_sum
FROM events
WHERE type = 'contacted' AND rep_id != ''
GROUP BY day, rep_id;

-- Turns closed by a contact (contact_wait events, dated at the turn's
-- start), per day the turn began, rep and day of the contact: how many,
-- the waits' sum and the turns' start sum.
CREATE TABLE IF NOT EXISTS wait_day (
    day         UInt32,
    rep_id      String,
    contact_day UInt32,
    n           UInt64,
    value_sum   Int64,
    at_sum      UInt64
) ENGINE = SummingMergeTree
ORDER BY (day, rep_id, contact_day);

CREATE MATERIALIZED VIEW IF NOT EXISTS wait_day_mv TO wait_day AS
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, toUInt32(intDiv(until_ms, 86400000)) AS contact_day,
    count() AS n, sum(value) AS value_sum, sum(at_ms) AS at_sum
FROM events
WHERE type = 'contact_wait' AND rep_id != ''
GROUP BY day, rep_id, contact_day;

-- Events written before this migration have no contact_wait: derive them
-- once, for every turn that began before its lead's first contact (the
-- rule the report used until now), through events so that wait_day_mv
-- rolls them up like any other.
INSERT INTO events (event_id, type, at, at_ms, lead_id, rep_id, method, epoch, score, source, employees, territory, industry,
    entered_pool_ms, value, until_ms, policy_version)
SELECT concat(lead_id, '/', toString(epoch), '/contact_wait/backfill') AS event_id, 'contact_wait' AS type, at, at_ms, lead_id, rep_id,
    method, epoch, score, source, employees, territory, industry, entered_pool_ms, toInt64(first_contact) - toInt64(at_ms) AS value,
    first_contact AS until_ms, policy_version
FROM (
    SELECT lead_id, rep_id, method, epoch, score, source, employees, territory, industry, entered_pool_ms, at, at_ms, policy_version
    FROM events
    WHERE type IN ('assigned', 'reassigned') AND rep_id != ''
) AS turns ANY INNER JOIN (
    SELECT lead_id, min(at_ms) AS first_contact
    FROM events
    WHERE type = 'contacted'
    GROUP BY lead_id
) AS contacts USING lead_id
WHERE first_contact >= at_ms;

-- The rows before this migration feed the other rollups once.
INSERT INTO assign_day SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, method, count(), sum(score), sum(at_ms)
FROM events WHERE type IN ('assigned', 'reassigned') AND rep_id != '' GROUP BY day, rep_id, method;

INSERT INTO pick_day SELECT intDiv(toUInt32(at), 86400), rep_id, score, value
FROM events WHERE type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '';

INSERT INTO first_owner SELECT toUInt32(intDiv(entered_pool_ms, 86400000)), entered_pool_ms, value
FROM events WHERE type = 'assigned' AND rep_id != '';

INSERT INTO guard_day SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, type, reason, count()
FROM events
WHERE type IN ('claim_refused', 'open_refused', 'sla_missed', 'sla_penalty', 'rep_suspended',
               'cooldown_started', 'suspension_lifted', 'quotas_adjusted', 'reassigned', 'escalated')
GROUP BY day, rep_id, type, reason;

INSERT INTO mix_day SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, source,
    countIf(employees < 50), countIf(employees >= 50 AND employees < 250), countIf(employees >= 250 AND employees < 1000), countIf(employees >= 1000)
FROM events WHERE (type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '') OR type = 'qualified'
GROUP BY day, rep_id, source;

INSERT INTO outcome_day SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, toUInt8(method = 'cherry_pick') AS picked,
    toInt64(intDiv(least(greatest(score, 0), 99), 10) * 10) AS band, count(), countIf(converted = 1)
FROM events WHERE type = 'outcome' AND rep_id != '' GROUP BY day, rep_id, picked, band;

INSERT INTO contact_day SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, count(), sum(value)
FROM events WHERE type = 'contacted' AND rep_id != '' GROUP BY day, rep_id;
