-- Fairness, system: leads qualified in [@since, @until) and how many waited
-- @aged_ms or more without an owner (until their first owner, or until
-- @end_ms for those that never had one). From the lead facts (one row per
-- lead, migration 0004), only the period's leads merged.
SELECT count() AS leads,
    countIf(if(owned = 0, @end_ms, owned) - entered >= @aged_ms) AS aged
FROM (
    SELECT lead_id, minIfMerge(qualified_ms) AS entered, minIfMerge(first_owned_ms) AS owned
    FROM lead_facts
    WHERE lead_id IN (
        SELECT lead_id FROM events WHERE type = 'qualified' AND at >= @since AND at < @until
    )
    GROUP BY lead_id
)
