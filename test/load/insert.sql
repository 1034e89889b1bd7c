\set b random(1, 400)
\set k random(1, 10)
\set amount random(1, 5000) * 2 + random(0, 1)
\set back random(0, 1)
SELECT load.insert_document(:b, :k, :amount, :back);
