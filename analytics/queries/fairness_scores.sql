-- Fairness, per rep: picks in [@since, @until) by lead score, so that the
-- only_high_scores flag judges them against fairness.high_score in one place
-- (package fairness). Whole days from pick_day, the edges from events.
SELECT rep_id, score, count() AS n
FROM (
    SELECT rep_id, score
    FROM pick_day
    WHERE day >= @d1 AND day < @d2
    UNION ALL
    SELECT rep_id, score
    FROM events
    WHERE type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
)
GROUP BY rep_id, score
ORDER BY rep_id, score
