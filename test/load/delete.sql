-- the buyers are drawn with a skew toward low ids, so that clients meet on the same drafts
\set b random_exponential(1, 400, 4)
SELECT load.delete_draft(:b);
