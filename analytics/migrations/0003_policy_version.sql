-- Every decision names the policy version it was decided under (the
-- policy topic's record, GET /v1/policy): analysts compare periods and
-- policies by it.
ALTER TABLE events
    ADD COLUMN policy_version String DEFAULT ''
