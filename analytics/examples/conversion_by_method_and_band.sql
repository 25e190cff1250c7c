-- Conversion by method and score decile: do picks beat auto-assignment?
SELECT first_method, intDiv(score, 10) * 10 AS band, count() AS leads, avg(converted) AS conversion
FROM lead_facts_v WHERE outcome_ms > 0 GROUP BY first_method, band ORDER BY band, first_method
