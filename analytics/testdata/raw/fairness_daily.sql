-- Fairness, system: leads given to each rep per day in [@since, @until),
-- with their score sum, for the trend of the Gini of volume and quality.
SELECT intDiv(toUInt32(at), 86400) AS day, rep_id, count() AS leads, sum(score) AS score_sum
FROM events
WHERE type IN ('assigned', 'reassigned') AND rep_id != '' AND at >= @since AND at < @until
GROUP BY day, rep_id
ORDER BY day, rep_id
