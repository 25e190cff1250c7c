-- Fairness, per rep (slow_contact): for every lead given to the rep in
-- [@since, @until), the time from then until the lead's first contact by
-- anyone (@end_ms when there is none yet, or the first contact came before
-- this assignment): a lead the rep let lapse counts with the whole wait it
-- caused, reassignments included. Leads are joined by a 64-bit hash of
-- their id: a hash join of integers, several times cheaper than of strings.
SELECT rep_id, count() AS n,
    avg(least(if(first_contact = 0 OR first_contact < at_ms, @end_ms, first_contact), @end_ms) - at_ms) / 1000 AS wait_avg_s
FROM (
    SELECT rep_id, cityHash64(lead_id) AS lead, at_ms
    FROM events
    WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until
) AS g ANY LEFT JOIN (
    SELECT cityHash64(lead_id) AS lead, min(at_ms) AS first_contact
    FROM events
    WHERE type = 'contacted' AND at >= @since
    GROUP BY lead
) AS c USING lead
GROUP BY rep_id
ORDER BY rep_id
