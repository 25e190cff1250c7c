-- Lead volume per rep (DOMAIN.md §7): leads assigned to each rep since ?,
-- split into cherry-picked and auto-assigned. FINAL: a replayed event counts once.
SELECT rep_id,
    countIf(method = 'cherry_pick') AS claims,
    countIf(method != 'cherry_pick') AS auto_assigned,
    count() AS leads
FROM events FINAL
WHERE type = 'assigned' AND at >= ?
GROUP BY rep_id
ORDER BY leads DESC, rep_id
