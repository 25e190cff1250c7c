-- Fairness, system: leads qualified in [@since, @until) and how many waited
-- @aged_ms or more without an owner (until their first owner, or until
-- @end_ms for those that never had one).
SELECT count() AS leads,
    countIf(if(owned = 0, @end_ms, owned) - entered >= @aged_ms) AS aged
FROM (
    SELECT lead_id, min(at_ms) AS entered
    FROM events FINAL
    WHERE type = 'qualified' AND at >= @since AND at < @until
    GROUP BY lead_id
) AS q ANY LEFT JOIN (
    SELECT lead_id, min(at_ms) AS owned
    FROM events FINAL
    WHERE type IN ('assigned', 'reassigned') AND rep_id != ''
    GROUP BY lead_id
) AS o USING lead_id
