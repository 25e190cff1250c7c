-- Fairness, per rep (slow_contact): for every lead given to the rep in
-- [@since, @until), the time from then until the lead's first contact by
-- anyone at or after it (@end_ms when there is none yet): a lead the rep
-- let lapse counts with the whole wait it caused, reassignments included.
-- The contacts come from the lead facts (migration 0004).
SELECT rep_id, count() AS n,
    avg(least(if(first_contact = 0, @end_ms, first_contact), @end_ms) - at_ms) / 1000 AS wait_avg_s
FROM (
    SELECT rep_id, at_ms,
        arrayReduce('min', arrayFilter(x -> x >= at_ms, contacts)) AS first_contact
    FROM (
        SELECT rep_id, lead_id, at_ms
        FROM events
        WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until
    ) AS g ANY LEFT JOIN (
        SELECT lead_id, groupArrayIfMerge(contacts_ms) AS contacts
        FROM lead_facts
        WHERE lead_id IN (
            SELECT lead_id FROM events
            WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until
        )
        GROUP BY lead_id
    ) AS c USING lead_id
)
GROUP BY rep_id
ORDER BY rep_id
