-- The raw mix query, in the shape of today's (a row per rep and source,
-- the size bands as columns).
SELECT rep_id, source, sumIf(n, size = '1-49') AS n1, sumIf(n, size = '50-249') AS n2, sumIf(n, size = '250-999') AS n3,
    sumIf(n, size = '1000+') AS n4
FROM (
SELECT rep_id, source,
    multiIf(employees < 50, '1-49', employees < 250, '50-249', employees < 1000, '250-999', '1000+') AS size,
    count() AS n
FROM events
WHERE ((type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '') OR type = 'qualified')
  AND at >= @since AND at < @until
GROUP BY rep_id, source, size
ORDER BY rep_id, source, size
)
GROUP BY rep_id, source
ORDER BY rep_id, source
