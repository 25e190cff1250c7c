-- Fairness, system: leads qualified in [@since, @until) and how many aged:
-- waited @aged_ms or more without an owner, until their first owner or, for
-- those never owned, until @end_ms. Of the leads that could have aged by
-- @end_ms (qualified @aged_ms or more before it), those whose first owner
-- came sooner than @aged_ms after they entered the pool did not (the
-- table first_owner). The period's leads come from the pool rows of
-- mix_day for whole days, from events at the edges.
SELECT toUInt64(pool_leads) AS leads, toUInt64(greatest(toInt64(pool_leads) - toInt64(recent) - toInt64(owned_young), 0)) AS aged
FROM (
    SELECT
        (SELECT sum(n) FROM (
            SELECT s1 + s2 + s3 + s4 AS n
            FROM mix_day
            WHERE rep_id = '' AND day >= @d1 AND day < @d2
            UNION ALL
            SELECT count() AS n
            FROM events
            WHERE type = 'qualified' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
        )) AS pool_leads,
        (SELECT count()
         FROM events
         WHERE type = 'qualified' AND at >= @since AND at < @until
           AND at >= toDateTime(intDiv(greatest(toInt64(@end_ms) - toInt64(@aged_ms), 0), 1000)) AND NOT (@end_ms - at_ms >= @aged_ms)
        ) AS recent,
        (SELECT count()
         FROM first_owner
         WHERE day >= toUInt32(intDiv(toUnixTimestamp(@since), 86400)) AND day <= toUInt32(intDiv(toUnixTimestamp(@until), 86400))
           AND entered_ms >= toUInt64(toUnixTimestamp(@since)) * 1000
           AND entered_ms < toUInt64(toUnixTimestamp(@until)) * 1000
           AND value < @aged_ms AND @end_ms - entered_ms >= @aged_ms
        ) AS owned_young
)
