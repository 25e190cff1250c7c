-- Guardrail decisions per rep since ?: refusals by reason code, SLA misses,
-- cooldowns, suspensions and manager actions.
SELECT rep_id, type, reason, count() AS n
FROM events
WHERE at >= ?
  AND type IN ('claim_refused', 'open_refused', 'sla_missed', 'sla_penalty', 'rep_suspended',
               'cooldown_started', 'suspension_lifted', 'quotas_adjusted', 'reassigned', 'escalated')
GROUP BY rep_id, type, reason
ORDER BY rep_id, type, reason
