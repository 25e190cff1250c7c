-- Lead volume per rep (DOMAIN.md §7): leads given to each rep since ?,
-- cherry-picked or auto-assigned (reassignments included). FINAL: a
-- replayed event counts once.
SELECT rep_id,
    countIf(method = 'cherry_pick') AS claims,
    countIf(method != 'cherry_pick') AS auto_assigned,
    count() AS leads
FROM events FINAL
WHERE type IN ('assigned', 'reassigned') AND at >= ?
GROUP BY rep_id
ORDER BY leads DESC, rep_id
