-- Fairness, per rep: leads given to each rep in [@since,
-- @until), picked or auto-assigned, their average scores, claim speed (time
-- in the pool at the claim, median and p90, seconds) and the picks of leads
-- that had waited @aged_ms or more.
SELECT rep_id,
    countIf(method = 'cherry_pick') AS picks,
    countIf(method IN ('round_robin', 'weighted', 'reassignment')) AS auto,
    avgIf(score, method = 'cherry_pick') AS avg_picked,
    avgIf(score, method IN ('round_robin', 'weighted', 'reassignment')) AS avg_auto,
    quantileIf(0.5)(value, method = 'cherry_pick') / 1000 AS speed_p50_s,
    quantileIf(0.9)(value, method = 'cherry_pick') / 1000 AS speed_p90_s,
    countIf(method = 'cherry_pick' AND value >= @aged_ms) AS aged_picks
FROM events
WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until
GROUP BY rep_id
ORDER BY rep_id
