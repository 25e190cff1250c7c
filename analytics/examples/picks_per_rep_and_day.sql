-- Each rep's picks per day, with the median time its leads had waited.
SELECT day, rep_id, leads, speed_p50_p90_ms[1] / 1000 AS waited_s
FROM rep_day_v WHERE method = 'cherry_pick' ORDER BY day, rep_id
