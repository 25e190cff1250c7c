-- Fairness, system: leads qualified in [@since, @until) and how many aged:
-- waited @aged_ms or more without an owner, until their first owner or, for
-- those never owned, until @end_ms. Counted without a join: of the leads
-- that could have aged by @end_ms, those whose some assignment to a rep came
-- sooner than @aged_ms after they entered the pool did not (every
-- assignment event carries its lead's time in the pool, value).
SELECT leads, toUInt64(greatest(toInt64(could_age) - toInt64(owned_young), 0)) AS aged
FROM (
    SELECT count() AS leads, countIf(@end_ms - at_ms >= @aged_ms) AS could_age,
        (SELECT uniqExact(cityHash64(lead_id))
         FROM events
         WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND value < @aged_ms
           AND entered_pool_ms >= toUInt64(toUnixTimestamp(@since)) * 1000
           AND entered_pool_ms < toUInt64(toUnixTimestamp(@until)) * 1000
           AND @end_ms - entered_pool_ms >= @aged_ms) AS owned_young
    FROM events
    WHERE type = 'qualified' AND at >= @since AND at < @until
)
