-- Fairness, per rep: outcomes in [@since, @until) by how the lead came to
-- its owner (picked = 1: cherry-picked) and by score decile (0, 10, .. 90):
-- conversion per rep, and picked vs auto-assigned leads of the same band.
-- Whole days from outcome_day, the edges from events.
SELECT rep_id, picked, band, sum(n) AS outcomes, sum(conv) AS converted
FROM (
    SELECT rep_id, picked, band, n, converted AS conv
    FROM outcome_day
    WHERE day >= @d1 AND day < @d2
    UNION ALL
    SELECT rep_id, toUInt8(method = 'cherry_pick') AS picked, toInt64(intDiv(least(greatest(score, 0), 99), 10) * 10) AS band,
        count() AS n, countIf(converted = 1) AS conv
    FROM events
    WHERE type = 'outcome' AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
    GROUP BY rep_id, picked, band
)
GROUP BY rep_id, picked, band
ORDER BY rep_id, picked, band
