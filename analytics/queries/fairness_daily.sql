-- Fairness, system: leads given to each rep per UTC day (a day number) in
-- [@since, @until), with their score sum, for the trend of the Gini of
-- volume and quality. Whole days from assign_day, the edges from events.
SELECT day, rep_id, sum(n) AS leads, sum(s) AS score_sum
FROM (
    SELECT day, rep_id, n, score_sum AS s
    FROM assign_day
    WHERE day >= @d1 AND day < @d2
    UNION ALL
    SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, count() AS n, sum(score) AS s
    FROM events
    WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
    GROUP BY day, rep_id
)
GROUP BY day, rep_id
ORDER BY day, rep_id
