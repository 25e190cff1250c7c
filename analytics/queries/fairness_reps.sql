-- Fairness, per rep: leads given to each rep in [@since, @until), picked
-- or auto-assigned, their average scores, claim speed (time in the pool at
-- the claim, median and p90, seconds) and the picks of leads that had
-- waited @aged_ms or more. Whole days [@d1, @d2) from the rollups
-- assign_day and pick_day, the partial days at the edges from events.
SELECT rep_id,
    picks, auto, score_picked / picks AS avg_picked, score_auto / auto AS avg_auto,
    speed[1] / 1000 AS speed_p50_s, speed[2] / 1000 AS speed_p90_s, aged AS aged_picks
FROM (
    SELECT rep_id,
        sumIf(n, method = 'cherry_pick') AS picks,
        sumIf(n, method IN ('round_robin', 'weighted', 'reassignment')) AS auto,
        sumIf(s, method = 'cherry_pick') AS score_picked,
        sumIf(s, method IN ('round_robin', 'weighted', 'reassignment')) AS score_auto
    FROM (
        SELECT rep_id, method, n, score_sum AS s
        FROM assign_day
        WHERE day >= @d1 AND day < @d2
        UNION ALL
        SELECT rep_id, method, count() AS n, sum(score) AS s
        FROM events
        WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
        GROUP BY rep_id, method
    )
    GROUP BY rep_id
) AS given ANY LEFT JOIN (
    SELECT rep_id, quantiles(0.5, 0.9)(value) AS speed, countIf(value >= @aged_ms) AS aged
    FROM (
        SELECT rep_id, value
        FROM pick_day
        WHERE day >= @d1 AND day < @d2
        UNION ALL
        SELECT rep_id, value
        FROM events
        WHERE type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
    )
    GROUP BY rep_id
) AS picked USING rep_id
ORDER BY rep_id
