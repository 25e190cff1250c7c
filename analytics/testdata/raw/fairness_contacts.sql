-- Fairness, per rep: first contacts in [@since, @until) and the average
-- claim-to-contact time (seconds) of the rep's own contacts.
SELECT rep_id, count() AS contacts, avg(value) / 1000 AS contact_avg_s
FROM events
WHERE type = 'contacted' AND rep_id != '' AND at >= @since AND at < @until
GROUP BY rep_id
ORDER BY rep_id
