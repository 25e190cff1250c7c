-- Fairness: source and company-size mix of each rep's picks (rep_id) and of
-- the pool (rep_id = '', the leads qualified) in [@since, @until), one row
-- per rep and source with the counts of the four size bands (1-49, 50-249,
-- 250-999, 1000+ employees). Whole days from mix_day, the edges from events.
SELECT rep_id, source, sum(s1) AS n1, sum(s2) AS n2, sum(s3) AS n3, sum(s4) AS n4
FROM (
    SELECT rep_id, source, s1, s2, s3, s4
    FROM mix_day
    WHERE day >= @d1 AND day < @d2
    UNION ALL
    SELECT rep_id, source, countIf(employees < 50) AS s1, countIf(employees >= 50 AND employees < 250) AS s2,
        countIf(employees >= 250 AND employees < 1000) AS s3, countIf(employees >= 1000) AS s4
    FROM events
    WHERE ((type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '') OR type = 'qualified') AND ((at >= @since AND at < @t1) OR (at >= @t2 AND at < @until))
    GROUP BY rep_id, source
)
GROUP BY rep_id, source
ORDER BY rep_id, source
