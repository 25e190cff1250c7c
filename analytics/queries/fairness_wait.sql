-- Fairness, per rep (slow_contact): for every lead given to the rep in
-- [@since, @until), the time from then until the lead's first contact by
-- anyone at or after it (@end_ms when there is none yet): a lead the rep
-- let lapse counts with the whole wait it caused, reassignments included.
-- One pass grouped by lead (its owners in the period, its contacts since
-- @since), no join.
SELECT rep_id, count() AS n,
    avg(least(if(first_contact = 0, @end_ms, first_contact), @end_ms) - at_ms) / 1000 AS wait_avg_s
FROM (
    SELECT owner.1 AS rep_id, owner.2 AS at_ms,
        arrayReduce('min', arrayFilter(x -> x >= owner.2, contacts)) AS first_contact
    FROM (
        SELECT lead_id,
            groupArrayIf((rep_id, at_ms), type != 'contacted') AS owners,
            groupArrayIf(at_ms, type = 'contacted') AS contacts
        FROM events
        WHERE (type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until)
           OR (type = 'contacted' AND at >= @since)
        GROUP BY lead_id
        HAVING length(owners) > 0
    )
    ARRAY JOIN owners AS owner
)
GROUP BY rep_id
ORDER BY rep_id
