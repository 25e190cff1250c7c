-- Fairness: source and company-size mix of each rep's picks (rep_id) and of
-- the pool (rep_id = '', the leads qualified) in [@since, @until).
SELECT rep_id, source,
    multiIf(employees < 50, '1-49', employees < 250, '50-249', employees < 1000, '250-999', '1000+') AS size,
    count() AS n
FROM events
WHERE ((type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '') OR type = 'qualified')
  AND at >= @since AND at < @until
GROUP BY rep_id, source, size
ORDER BY rep_id, source, size
