-- Claim-to-contact per rep and week (minutes): the first owner's first call.
SELECT first_owner, toMonday(toDateTime(intDiv(first_owned_ms, 1000))) AS week,
    avg((contacts_ms[1] - first_owned_ms) / 60000) AS minutes
FROM lead_facts_v WHERE length(contacts_ms) > 0 AND first_owned_ms > 0
GROUP BY first_owner, week ORDER BY week, first_owner
