-- every second: issue what the simulated clock has closed, and a rerun in
-- a background worker
\set s random(1, 4)
SELECT load.issue();
SELECT load.rerun(:s, true);
\sleep 1 s
