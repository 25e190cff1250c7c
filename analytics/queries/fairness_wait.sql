-- Fairness, per rep (slow_contact): for every lead given to the rep in
-- [@since, @until), the time from then until the lead's next contact by
-- anyone, or until @end_ms when none came by then: a lead the rep let lapse
-- counts with the whole wait it caused, reassignments included. The
-- contact closes every turn since the previous contact with a contact_wait
-- event dated at the turn's start (package lead, wait.go), so the average
-- is sums, no join:
--   (closed waits + open turns x @end_ms - open turns' starts) / turns.
-- Turns and closed waits of whole days come from assign_day and wait_day
-- (contacts of @end_ms's own day, and the period's edges, from events).
SELECT rep_id, toUInt64(an) AS n,
    (toFloat64(cv) + toFloat64((toInt64(an) - toInt64(cn)) * toInt64(@end_ms) - (toInt64(asum) - toInt64(cs)))) / an / 1000 AS wait_avg_s
FROM (
    SELECT rep_id, sum(n) AS an, sum(s) AS asum
    FROM (
        SELECT rep_id, n, at_sum AS s
        FROM assign_day
        WHERE day >= @d1 AND day < @d2
        UNION ALL
        SELECT rep_id, count() AS n, sum(at_ms) AS s
        FROM events
        WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
        GROUP BY rep_id
    )
    GROUP BY rep_id
) AS turns ANY LEFT JOIN (
    SELECT rep_id, sum(n) AS cn, sum(v) AS cv, sum(s) AS cs
    FROM (
        SELECT rep_id, sum(n) AS n, sum(value_sum) AS v, sum(at_sum) AS s
        FROM wait_day
        WHERE day >= @d1 AND day < @d2 AND contact_day < @end_day
        GROUP BY rep_id
        UNION ALL
        SELECT rep_id, count() AS n, sum(value) AS v, sum(at_ms) AS s
        FROM events
        WHERE type = 'contact_wait' AND rep_id != '' AND (
            -- turns of whole days closed on @end_ms's own day: only from the
            -- first day wait_day has such a turn (none: an empty range)
            (at >= greatest(@t1, toDateTime(86400 * (SELECT if(min(day) = 0, @d2, min(day)) FROM wait_day
                                                    WHERE contact_day = @end_day AND day >= @d1 AND day < @d2)))
             AND at < @t2 AND until_ms >= @end_day_ms AND until_ms <= @end_ms)
            OR (((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until)) AND until_ms <= @end_ms))
        GROUP BY rep_id
    )
    GROUP BY rep_id
) AS closed USING rep_id
ORDER BY rep_id
