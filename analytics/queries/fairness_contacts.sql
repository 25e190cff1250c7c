-- Fairness, per rep: first contacts in [@since, @until) and the average
-- claim-to-contact time (seconds) of the rep's own contacts. Whole days
-- from contact_day, the edges from events.
SELECT rep_id, sum(n) AS contacts, sum(v) / sum(n) / 1000 AS contact_avg_s
FROM (
    SELECT rep_id, n, value_sum AS v
    FROM contact_day
    WHERE day >= @d1 AND day < @d2
    UNION ALL
    SELECT rep_id, count() AS n, sum(value) AS v
    FROM events
    WHERE type = 'contacted' AND rep_id != '' AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
    GROUP BY rep_id
)
GROUP BY rep_id
ORDER BY rep_id
