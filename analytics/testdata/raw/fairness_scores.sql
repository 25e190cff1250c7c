-- Fairness, per rep: picks in [@since, @until) by lead score, so that the
-- only_high_scores flag judges them against fairness.high_score in one place
-- (package fairness).
SELECT rep_id, score, count() AS n
FROM events
WHERE type IN ('assigned', 'reassigned') AND method = 'cherry_pick' AND rep_id != '' AND at >= @since AND at < @until
GROUP BY rep_id, score
ORDER BY rep_id, score
