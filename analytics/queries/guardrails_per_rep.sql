-- Guardrail decisions per rep since @since: refusals by reason code, SLA
-- misses, cooldowns, suspensions and manager actions. Whole days from
-- guard_day (from @d1 on), the partial first day [@since, @t1) from events.
SELECT rep_id, type, reason, sum(n) AS n
FROM (
    SELECT rep_id, type, reason, n
    FROM guard_day
    WHERE day >= @d1
    UNION ALL
    SELECT rep_id, type, reason, count() AS n
    FROM events
    WHERE at >= @since AND at < @t1
      AND type IN ('claim_refused', 'open_refused', 'sla_missed', 'sla_penalty', 'rep_suspended',
                   'cooldown_started', 'suspension_lifted', 'quotas_adjusted', 'reassigned', 'escalated')
    GROUP BY rep_id, type, reason
)
GROUP BY rep_id, type, reason
ORDER BY rep_id, type, reason
