\set s random(1, 4)
SELECT load.rerun(:s, false);
