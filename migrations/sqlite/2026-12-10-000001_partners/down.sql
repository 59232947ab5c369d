DROP TABLE partners;
