-- Fairness, per rep: outcomes in [@since, @until) by how the lead came to
-- its owner (picked = 1: cherry-picked) and by score decile (0, 10, .. 90):
-- conversion per rep, and picked vs auto-assigned leads of the same band.
SELECT rep_id,
    toUInt8(method = 'cherry_pick') AS picked,
    intDiv(least(greatest(score, 0), 99), 10) * 10 AS band,
    count() AS outcomes,
    countIf(converted = 1) AS converted
FROM events
WHERE type = 'outcome' AND rep_id != '' AND at >= @since AND at < @until
GROUP BY rep_id, picked, band
ORDER BY rep_id, picked, band
