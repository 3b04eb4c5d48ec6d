-- The staff member with an email, case-insensitively: a prospect's staffOwnerId
-- (looked up each time a prospect is read or written) and the staff list's
-- email filter.
--
-- A function, so that the lookup always goes through staff_client_email. Written
-- inline, it was planned as a sequential scan of any staff list of up to a few
-- hundred rows: the planner counts lower() as nearly free, but in a UTF-8
-- database it costs about half a microsecond a call, and the scan lowercased
-- every staff email for every prospect — 190 µs a prospect at 200 staff, against
-- 13 µs through this function (BENCHMARKS.md). STRICT: a prospect without a
-- staff owner email costs nothing. plpgsql keeps the plan for the session.
CREATE FUNCTION staff_id_by_email(client_id text, email text) RETURNS uuid
    LANGUAGE plpgsql STABLE STRICT PARALLEL SAFE
    SET enable_seqscan = off
AS $$
BEGIN
    RETURN (SELECT s.id FROM staff s WHERE s.client_id = $1 AND lower(s.email) = lower($2));
END
$$;
