-- Lead volume per rep: leads given to each rep since ?,
-- cherry-picked or auto-assigned (reassignments included).
SELECT rep_id,
    countIf(method = 'cherry_pick') AS claims,
    countIf(method != 'cherry_pick') AS auto_assigned,
    count() AS leads
FROM events
WHERE type IN ('assigned', 'reassigned') AND at >= ?
GROUP BY rep_id
ORDER BY leads DESC, rep_id
